"""Who is calling and what they may do: tokens, the permission table, route dependencies.

- ``tokens``: RS256 access/refresh tokens, signed by the gateway (``TokenSigner``), verified by
  every app (``TokenVerifier`` over a JWKS ``KeySet``) into a ``Principal``
- ``permissions``: roles → permissions, machine-client scopes (the one table a reviewer reads)
- ``security``: the FastAPI dependencies: ``current_principal``, ``require(permission)``,
  ``public`` (a route that is open on purpose) and the route introspection tests use
"""

from .permissions import CLIENT_SCOPES, COUNTY_ROLES, ROLE_PERMISSIONS, Permission, Role, permissions_for_roles
from .security import (
    TOKEN_URL,
    CurrentPrincipal,
    authenticated,
    authenticated_router,
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
from .tokens import (
    ACCESS,
    ALGORITHM,
    REFRESH,
    REQUIRED_CLAIMS,
    KeySet,
    Principal,
    PrincipalKind,
    SigningKey,
    TokenSigner,
    TokenVerifier,
    jwks_document,
    load_or_create_dev_key,
    public_jwk,
    public_key_from_pem,
)

__all__ = [
    "ACCESS",
    "ALGORITHM",
    "CLIENT_SCOPES",
    "COUNTY_ROLES",
    "REFRESH",
    "REQUIRED_CLAIMS",
    "ROLE_PERMISSIONS",
    "TOKEN_URL",
    "CurrentPrincipal",
    "KeySet",
    "Permission",
    "Principal",
    "PrincipalKind",
    "Role",
    "SigningKey",
    "TokenSigner",
    "TokenVerifier",
    "authenticated",
    "authenticated_router",
    "current_principal",
    "declared_permissions",
    "get_verifier",
    "iter_api_routes",
    "jwks_document",
    "load_or_create_dev_key",
    "oauth2_scheme",
    "permissions_for_roles",
    "public",
    "public_jwk",
    "public_key_from_pem",
    "require",
    "require_roles",
    "require_scopes",
]
