"""Every statement of following the directory: the compounds as placed, new ones inserted, and a
compound's rows moved to its new community and grid (one statement per table)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import insert, select, update
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from ..cases.models import CLOSED_STATUSES, ProxyCase, SyncTombstone, Visit
from ..demands.models import Demand
from ..discovery.models import DiscoveryLead
from ..ledger.models import Compound, Household, Resident

OPEN_VISITS = ("planned", "checked_in")


async def placements(session: AsyncSession) -> dict[str, tuple[str, str]]:
    """Every compound's (community, grid), by code."""
    rows = await session.execute(select(col(Compound.code), col(Compound.community), col(Compound.grid)))
    return {code: (community, grid) for code, community, grid in rows.all()}


async def insert_compounds(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    if rows:
        await session.execute(insert(Compound), rows)


async def rehome(
    session: AsyncSession, code: str, community: str, grid: str, row_version: int, now: dt.datetime
) -> dict[str, int]:
    """Move a compound and what hangs on it; how many rows of each kind moved."""
    moved: dict[str, int] = {}
    where = select(col(Compound.community), col(Compound.grid)).where(col(Compound.code) == code)
    old_community, old = (await session.execute(where)).one()
    place = {"community": community, "grid": grid}
    if old_community != community:
        await _tombstones(session, code, old_community, row_version, now)
    elif old != grid:
        # The old grid's phones drop what left it (a phone holding one of these records by
        # another road, say a case assigned to its worker, keeps it: the feed checks).
        await _tombstones(session, code, old_community, row_version, now, grid=old)
    synced = {**place, "version": col(Compound.version) + 1, "row_version": row_version}
    await session.execute(update(Compound).where(col(Compound.code) == code).values(**synced, updated_at=now))
    result = await session.execute(
        update(Household)
        .where(col(Household.compound_code) == code)
        .values(**place, version=col(Household.version) + 1, row_version=row_version)
    )
    moved["households"] = _count(result)
    residents = select(col(Resident.id)).where(col(Resident.compound_code) == code).scalar_subquery()
    result = await session.execute(
        update(Resident)
        .where(col(Resident.compound_code) == code)
        .values(**place, version=col(Resident.version) + 1, row_version=row_version)
    )
    moved["residents"] = _count(result)
    open_cases = col(ProxyCase.resident_id).in_(residents) & col(ProxyCase.status).not_in(CLOSED_STATUSES)
    # A case assigned to the compound's old grid follows it; one assigned elsewhere stays there
    # unless the compound changed community (another community's grid cannot hold it).
    await session.execute(
        update(ProxyCase)
        .where(open_cases & ((col(ProxyCase.assigned_grid) == old) | (col(ProxyCase.community) != community)))
        .where(col(ProxyCase.assigned_grid).is_not(None))
        .values(assigned_grid=grid)
    )
    result = await session.execute(
        update(ProxyCase).where(open_cases).values(**place, version=col(ProxyCase.version) + 1, row_version=row_version)
    )
    moved["cases"] = _count(result)
    result = await session.execute(
        update(Visit)
        .where(col(Visit.compound_code) == code, col(Visit.status).in_(OPEN_VISITS))
        .values(**place, version=col(Visit.version) + 1, row_version=row_version)
    )
    moved["visits"] = _count(result)
    result = await session.execute(
        update(DiscoveryLead)
        .where(col(DiscoveryLead.resident_id).in_(residents))
        .values(**place, version=col(DiscoveryLead.version) + 1)
    )
    moved["leads"] = _count(result)
    result = await session.execute(
        update(Demand)
        .where(col(Demand.resident_id).in_(residents), col(Demand.status) == "open")
        .values(**place, version=col(Demand.version) + 1, row_version=row_version)
    )
    moved["demands"] = _count(result)
    return moved


async def _tombstones(
    session: AsyncSession, code: str, community: str, row_version: int, now: dt.datetime, *, grid: str | None = None
) -> None:
    """The old community's (or, with ``grid``, the old grid's) phones drop what left it: the
    compound, its residents, households, open cases, open demands and visits (the new
    community's or grid's phones receive them as changes)."""
    residents = select(col(Resident.id)).where(col(Resident.compound_code) == code)
    kinds: list[tuple[str, Any]] = [
        ("compound", select(col(Compound.code)).where(col(Compound.code) == code)),
        ("resident", residents),
        ("household", select(col(Household.id)).where(col(Household.compound_code) == code)),
        (
            "case",
            select(col(ProxyCase.id)).where(
                col(ProxyCase.resident_id).in_(residents.scalar_subquery()),
                col(ProxyCase.status).not_in(CLOSED_STATUSES),
            ),
        ),
        (
            "demand",
            select(col(Demand.id)).where(
                col(Demand.resident_id).in_(residents.scalar_subquery()), col(Demand.status) == "open"
            ),
        ),
        (
            "visit",
            select(col(Visit.id)).where(col(Visit.compound_code) == code, col(Visit.status).in_(OPEN_VISITS)),
        ),
    ]
    rows = [
        {
            "entity": entity,
            "entity_id": str(i),
            "community": community,
            "grid": grid,
            "row_version": row_version,
            "deleted_at": now,
        }
        for entity, stmt in kinds
        for i in (await session.execute(stmt)).scalars().all()
    ]
    if rows:
        await session.execute(insert(SyncTombstone), rows)


def _count(result: Any) -> int:
    return int(getattr(result, "rowcount", 0) or 0)
