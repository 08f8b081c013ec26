"""One module per vendor: the only places that import a vendor SDK. Each builds its client from settings."""
