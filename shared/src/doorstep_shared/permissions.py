"""Moved to doorstep_shared.auth.permissions; removed once every package imports the new path."""

from doorstep_shared.auth.permissions import (
    CLIENT_SCOPES,
    COUNTY_ROLES,
    ROLE_PERMISSIONS,
    P,
    Permission,
    Role,
    permissions_for_roles,
)

__all__ = [
    "CLIENT_SCOPES",
    "COUNTY_ROLES",
    "ROLE_PERMISSIONS",
    "P",
    "Permission",
    "Role",
    "permissions_for_roles",
]
