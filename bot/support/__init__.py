"""Support desk: the support channels and Zendesk stay in step, both ways."""

create = None  # set to the service factory (runtime -> service) when the capability is built
