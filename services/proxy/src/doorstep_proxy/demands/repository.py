"""Every demand query. Staff see their communities' demands (tenancy.scoped); a machine client
sees only the ones it submitted."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select, tuple_
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from doorstep_shared.auth.tokens import Principal

from ..tenancy import scoped
from .models import Demand


def _demand_scope(stmt: Any, principal: Principal) -> Any:
    """Staff see their communities' demands; a machine client only the ones it submitted
    (tenancy's rule), unless granted cases:read:all."""
    return scoped(stmt, Demand, principal)


async def get_demand(
    session: AsyncSession, principal: Principal, demand_id: uuid.UUID, *, for_update: bool = False
) -> Demand | None:
    stmt = _demand_scope(select(Demand).where(col(Demand.id) == demand_id), principal)
    if for_update:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).scalar_one_or_none()


async def list_demands(
    session: AsyncSession,
    principal: Principal,
    *,
    status: str | None,
    channel: str | None,
    community: str | None,
    grid: str | None,
    resident_id: uuid.UUID | None,
    since: dt.datetime | None,
    until: dt.datetime | None,
    after: Sequence[Any] | None,
    limit: int,
) -> Sequence[Demand]:
    order = (col(Demand.created_at).desc(), col(Demand.id).desc())
    stmt = _demand_scope(select(Demand).order_by(*order).limit(limit), principal)
    for column, value in (
        (Demand.status, status),
        (Demand.channel, channel),
        (Demand.community, community),
        (Demand.grid, grid),
        (Demand.resident_id, resident_id),
    ):
        if value is not None:
            stmt = stmt.where(col(column) == value)
    if since:
        stmt = stmt.where(col(Demand.created_at) >= since)
    if until:
        stmt = stmt.where(col(Demand.created_at) < until)
    if after:
        at = after[0]
        if at.tzinfo is None:
            at = at.replace(tzinfo=dt.UTC)
        stmt = stmt.where(tuple_(col(Demand.created_at), col(Demand.id)) < tuple_(at, after[1]))
    return (await session.execute(stmt)).scalars().all()


async def save(session: AsyncSession, demand: Demand) -> None:
    session.add(demand)
    await session.flush()
