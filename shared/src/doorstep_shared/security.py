"""Moved to doorstep_shared.auth.security; removed once every package imports the new path."""

from doorstep_shared.auth.security import (
    TOKEN_URL,
    CurrentPrincipal,
    authenticated,
    current_principal,
    declared_permissions,
    get_verifier,
    iter_api_routes,
    oauth2_scheme,
    public,
    require,
    require_roles,
    require_scopes,
)

__all__ = [
    "TOKEN_URL",
    "CurrentPrincipal",
    "authenticated",
    "current_principal",
    "declared_permissions",
    "get_verifier",
    "iter_api_routes",
    "oauth2_scheme",
    "public",
    "require",
    "require_roles",
    "require_scopes",
]
