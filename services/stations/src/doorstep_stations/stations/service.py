"""Stations rules: stations and their featured services (reading, creating, updating).

The lookups other sub-domains need (a station by code or id, its services) are here too: they
call this module, never the stations repository. So is the revision of what the hot reads show
(``snapshot/``): every write that changes a station, a service or opening hours calls
``bump_revision`` in its transaction, and every process sees the change through it.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Sequence
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from doorstep_shared.auth.permissions import Role
from doorstep_shared.auth.tokens import Principal
from doorstep_shared.clock import utcnow
from doorstep_shared.directory import Directory
from doorstep_shared.http.errors import Conflict, Forbidden, Invalid, NotFound
from doorstep_shared.staff_roster import StaffRoster

from ..tenancy import ensure_manage
from . import repository as repo
from .models import Station, StationService
from .schemas import ServiceCreate, ServiceRead, ServiceUpdate, StationCreate, StationRead, StationUpdate

logger = logging.getLogger("doorstep.stations.keepers")

# --- reading --------------------------------------------------------------------------


def service_read(svc: StationService) -> ServiceRead:
    return ServiceRead.model_validate(svc, from_attributes=True)


def station_read(station: Station, services: Sequence[StationService]) -> StationRead:
    return StationRead(
        code=station.code,
        name=station.name,
        community=station.community,
        compound=station.compound,
        address=station.address,
        latitude=station.latitude,
        longitude=station.longitude,
        keepers=list(station.keepers),
        contact=station.contact,
        description=station.description,
        services=[service_read(s) for s in services],
        version=station.version,
    )


def station_not_found(code: str) -> NotFound:
    return NotFound(f"Station {code} not found.", code="station_not_found")


def service_not_found(code: str, station_code: str) -> NotFound:
    return NotFound(f"Service {code} not found at {station_code}.", code="service_not_found")


async def get_station(session: AsyncSession, code: str) -> Station:
    station = await repo.station_by_code(session, code)
    if station is None:
        raise station_not_found(code)
    return station


async def get_service(session: AsyncSession, station: Station, code: str) -> StationService:
    assert station.id is not None
    svc = await repo.service_by_code(session, station.id, code)
    if svc is None:
        raise service_not_found(code, station.code)
    return svc


async def station_detail(session: AsyncSession, code: str) -> StationRead:
    """A station with its services, from the database (writes check If-Match against it; the
    read route answers from the snapshot, ``snapshot.reads.station_body``, the same bytes)."""
    station = await get_station(session, code)
    assert station.id is not None
    services = (await repo.services_of(session, [station.id]))[station.id]
    return station_read(station, services)


# --- writing --------------------------------------------------------------------------


def _keepers_follow_staff() -> Conflict:
    return Conflict(
        "A station's keepers come from the staff records: list the station in the keeper's account "
        "(PATCH /api/v1/staff/{username} with stations).",
        code="keepers_follow_staff",
    )


async def create_station(
    session: AsyncSession,
    principal: Principal,
    directory: Directory,
    data: StationCreate,
    *,
    keepers_follow_staff: bool = False,
) -> StationRead:
    if keepers_follow_staff and data.keepers:
        raise _keepers_follow_staff()
    if directory.community(data.community) is None:
        raise Invalid.field("body.community", "unknown community")
    compound = directory.compound(data.compound)
    if compound is None or compound.community != data.community:
        raise Invalid.field("body.compound", "not a compound of the community", code="unknown_compound")
    allowed = (Role.COUNTY_ADMIN in principal.roles and principal.sees_community(data.community)) or (
        Role.COMMUNITY_ADMIN in principal.roles and principal.community == data.community
    )
    if not allowed:
        raise Forbidden(
            "Only county admins and the community's admins create stations.",
            code="not_station_manager",
        )
    if await repo.station_by_code(session, data.code) is not None:
        raise Conflict(f"Station {data.code} exists.", code="station_exists")
    station = Station(**data.model_dump())
    session.add(station)
    await session.flush()
    await repo.bump_revision(session)
    return station_read(station, [])


async def update_station(
    session: AsyncSession,
    principal: Principal,
    station: Station,
    data: StationUpdate,
    *,
    keepers_follow_staff: bool = False,
) -> StationRead:
    ensure_manage(principal, station)
    changes = data.model_dump(exclude_unset=True)
    if keepers_follow_staff and "keepers" in changes:
        raise _keepers_follow_staff()
    if (
        "keepers" in changes
        and Role.STATION_KEEPER in principal.roles
        and not (principal.roles & {Role.COMMUNITY_ADMIN, Role.COUNTY_ADMIN})
    ):
        raise Forbidden("Keepers cannot change who keeps a station.", code="keepers_admin_only")
    for key, value in changes.items():
        if value is None:
            raise Invalid.field(f"body.{key}", "may not be null")
        setattr(station, key, value)
    station.version += 1
    station.updated_at = utcnow()
    session.add(station)
    await session.flush()
    await repo.bump_revision(session)
    return await station_detail(session, station.code)


async def create_service(
    session: AsyncSession, principal: Principal, station: Station, data: ServiceCreate
) -> ServiceRead:
    ensure_manage(principal, station)
    assert station.id is not None
    if await repo.service_by_code(session, station.id, data.code) is not None:
        raise Conflict(f"Service {data.code} exists at {station.code}.", code="service_exists")
    svc = StationService(station_id=station.id, **data.model_dump())
    session.add(svc)
    await session.flush()
    await repo.bump_revision(session)
    return service_read(svc)


async def update_service(
    session: AsyncSession,
    principal: Principal,
    station: Station,
    svc: StationService,
    data: ServiceUpdate,
) -> ServiceRead:
    ensure_manage(principal, station)
    for key, value in data.model_dump(exclude_unset=True).items():
        if value is None:
            raise Invalid.field(f"body.{key}", "may not be null")
        setattr(svc, key, value)
    svc.version += 1
    svc.updated_at = utcnow()
    session.add(svc)
    await session.flush()
    await repo.bump_revision(session)
    return service_read(svc)


# --- the revision of what the hot reads show -----------------------------------------


async def bump_revision(session: AsyncSession) -> None:
    """Call in the transaction of a write that changes a station, a service or opening hours
    (after its own statements: the revision row is the last lock such a transaction takes)."""
    await repo.bump_revision(session)


async def revision(session: AsyncSession) -> tuple[str, int]:
    """(epoch, revision) of what the hot reads show, as committed."""
    return await repo.stations_revision(session)


def committed_bumps(engine: Any) -> int:
    """Revision bumps this process has committed on ``engine`` (the session's sync engine)."""
    return repo.committed_bumps(engine)


# --- lookups for the other sub-domains ------------------------------------------------


async def station_by_id(session: AsyncSession, station_id: int) -> Station | None:
    return await repo.station_by_id(session, station_id)


async def stations_by_ids(session: AsyncSession, ids: Collection[int]) -> dict[int, Station]:
    return await repo.stations_by_ids(session, ids)


async def find_stations(
    session: AsyncSession,
    *,
    community: str | None = None,
    bbox: tuple[float, float, float, float] | None = None,
) -> Sequence[Station]:
    """Stations by code, of one community and/or inside a (lat, lat, lon, lon) box."""
    return await repo.list_stations(session, community=community, bbox=bbox)


async def services_of(session: AsyncSession, station_ids: Collection[int]) -> dict[int, list[StationService]]:
    """Each station's services, by code."""
    return await repo.services_of(session, station_ids)


async def all_services(session: AsyncSession) -> Sequence[StationService]:
    """Every station's services, by station and code (what ``services_of`` gives each)."""
    return await repo.all_services(session)


async def services_by_ids(session: AsyncSession, ids: Collection[int]) -> dict[int, StationService]:
    return await repo.services_by_ids(session, ids)


async def service_code(session: AsyncSession, service_id: int | None) -> str | None:
    """The code of a service (None for none, or one that is gone)."""
    if service_id is None:
        return None
    svc = (await repo.services_by_ids(session, [service_id])).get(service_id)
    return svc.code if svc else None


async def follow_roster(session: AsyncSession, roster: StaffRoster) -> list[str]:
    """Every station's keepers to the gateway's staff records: the active station keepers whose
    record lists the station (``doorstep_shared.staff_roster``). Idempotent: only stations whose
    keepers differ are written (their version bumped, so ETags change). Returns their codes."""
    keepers = roster.keepers_of()
    changed: list[str] = []
    for station in await repo.all_stations(session):
        wanted = keepers.get(station.code, [])
        if list(station.keepers) != wanted:
            station.keepers = wanted
            station.version += 1
            station.updated_at = utcnow()
            session.add(station)
            changed.append(station.code)
    await session.flush()
    if changed:
        await repo.bump_revision(session)
        logger.info("staff roster %s: keepers of %d stations changed", roster.revision, len(changed))
    return changed
