"""Who may see and manage what in stations: one public module for the tenancy rule.

Staff see the records of the communities they see (``Principal.visible_communities``: their
own; a county role's, those of its county; None = all); another community's (or county's)
records answer 404, as if absent. A station is managed by its keepers, its community's admins
and its county's admins.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import true

from doorstep_shared.auth.permissions import Permission, Role
from doorstep_shared.auth.tokens import Principal
from doorstep_shared.http.errors import Forbidden, NotFound

from .stations.models import Station

Visible = Collection[str] | None


def visible_to(column: Any, visible: Visible) -> Any:
    """The SQL condition that keeps rows of the visible communities (repositories apply it)."""
    return true() if visible is None else column.in_(list(visible))


def can_manage(principal: Principal, station: Station) -> bool:
    if not principal.has(Permission.STATIONS_MANAGE) or principal.kind != "user":
        return False
    if Role.COUNTY_ADMIN in principal.roles:
        return principal.sees_community(station.community)  # their county's stations
    if Role.COMMUNITY_ADMIN in principal.roles and principal.community == station.community:
        return True
    return (
        Role.STATION_KEEPER in principal.roles
        and principal.community == station.community
        and principal.subject in station.keepers
    )


def ensure_manage(principal: Principal, station: Station) -> None:
    """403 unless the caller manages this station (station info itself is public to staff)."""
    if not can_manage(principal, station):
        raise Forbidden(f"You do not manage the station {station.code}.", code="not_station_manager")


def ensure_sees(principal: Principal, community: str, what: str = "Resource") -> None:
    """Records of another community answer 404, as if absent."""
    if not principal.sees_community(community):
        raise NotFound(f"{what} not found.")
