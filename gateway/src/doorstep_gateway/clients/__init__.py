"""Machine clients: third-party platforms registered with OAuth2 client credentials (``/api/v1/clients``)."""
