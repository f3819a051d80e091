"""The demo's own queries: which stations exist, which services take sessions, which days are
already taken."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ..bookings.models import ServiceSession
from ..stations.models import ServiceKind, Station, StationService


async def station_codes(session: AsyncSession) -> set[str]:
    return {s.code for s in (await session.exec(select(Station))).all()}


async def services_with_sessions(session: AsyncSession, community: str) -> Sequence[tuple[Station, StationService]]:
    """The community's class and appointment services (everything but drop-off), with their station."""
    stmt = (
        select(Station, StationService)
        .join(StationService, col(StationService.station_id) == col(Station.id))
        .where(col(Station.community) == community, col(StationService.kind) != ServiceKind.DROP_OFF)
    )
    return (await session.exec(stmt)).all()


async def session_starts(
    session: AsyncSession, service_id: int, start: dt.datetime, end: dt.datetime
) -> Sequence[dt.datetime]:
    """When the service's sessions in [start, end) start."""
    taken = await session.exec(
        select(ServiceSession.starts_at).where(
            col(ServiceSession.service_id) == service_id,
            col(ServiceSession.starts_at) >= start,
            col(ServiceSession.starts_at) < end,
        )
    )
    return taken.all()
