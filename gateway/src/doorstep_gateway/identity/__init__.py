"""Identity: staff users, passwords, logins and lockout, tokens and refresh families, JWKS (``/api/v1/auth``)."""
