"""Every statement of following the directory: the stations' places and a station's move."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from ..stations.models import Station


async def placements(session: AsyncSession) -> list[tuple[str, str, str]]:
    """(station code, compound, community) of every station."""
    rows = await session.execute(select(col(Station.code), col(Station.compound), col(Station.community)))
    return [(code, compound, community) for code, compound, community in rows.all()]


async def rehome(session: AsyncSession, code: str, community: str, now: dt.datetime) -> None:
    await session.execute(
        update(Station)
        .where(col(Station.code) == code)
        .values(community=community, version=col(Station.version) + 1, updated_at=now)
    )
