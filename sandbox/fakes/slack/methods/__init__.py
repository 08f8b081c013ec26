"""Web API method handlers, one module per method family (auth, chat, conversations, users, usergroups, ...)."""
