"""Queries for workers, demands and demand figures (tenancy applied as in repository.py)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, func, insert, select, tuple_
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from doorstep_shared.tokens import Principal

from .demands.models import Demand
from .tenancy import scoped
from .workers.models import WorkerGrid, WorkerProfile

# --- workers --------------------------------------------------------------------------


async def list_workers(
    session: AsyncSession,
    principal: Principal,
    *,
    community: str | None,
    grid: str | None,
    status: str | None,
    after: str | None,
    limit: int,
) -> Sequence[WorkerProfile]:
    stmt = select(WorkerProfile).order_by(col(WorkerProfile.username)).limit(limit)
    stmt = scoped(stmt, WorkerProfile, principal)
    if community:
        stmt = stmt.where(col(WorkerProfile.community) == community)
    if status:
        stmt = stmt.where(col(WorkerProfile.status) == status)
    if grid:
        in_grid = select(col(WorkerGrid.username)).where(col(WorkerGrid.grid) == grid)
        stmt = stmt.where(col(WorkerProfile.username).in_(in_grid))
    if after:
        stmt = stmt.where(col(WorkerProfile.username) > after)
    return (await session.execute(stmt)).scalars().all()


async def get_worker(
    session: AsyncSession, principal: Principal | None, username: str, *, for_update: bool = False
) -> WorkerProfile | None:
    stmt = select(WorkerProfile).where(col(WorkerProfile.username) == username)
    if principal is not None:
        stmt = scoped(stmt, WorkerProfile, principal)
    if for_update:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).scalar_one_or_none()


async def grids_of(session: AsyncSession, usernames: Sequence[str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {u: [] for u in usernames}
    if not usernames:
        return out
    stmt = (
        select(col(WorkerGrid.username), col(WorkerGrid.grid))
        .where(col(WorkerGrid.username).in_(list(usernames)))
        .order_by(col(WorkerGrid.grid))
    )
    for username, grid in (await session.execute(stmt)).all():
        out.setdefault(username, []).append(grid)
    return out


async def set_grids(session: AsyncSession, username: str, grids: Sequence[str]) -> None:
    await session.execute(delete(WorkerGrid).where(col(WorkerGrid.username) == username))
    if grids:
        await session.execute(insert(WorkerGrid), [{"username": username, "grid": g} for g in grids])


async def save(session: AsyncSession, obj: Any) -> None:
    session.add(obj)
    await session.flush()


# --- demands --------------------------------------------------------------------------


def _demand_scope(stmt: Any, principal: Principal) -> Any:
    """Staff see their communities' demands; a machine client only the ones it submitted."""
    if principal.kind == "client":
        return stmt.where(col(Demand.source_client) == principal.subject)
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
        at = dt.datetime.fromisoformat(str(after[0]))
        if at.tzinfo is None:
            at = at.replace(tzinfo=dt.UTC)
        stmt = stmt.where(tuple_(col(Demand.created_at), col(Demand.id)) < tuple_(at, uuid.UUID(str(after[1]))))
    return (await session.execute(stmt)).scalars().all()


async def demand_counts(
    session: AsyncSession,
    principal: Principal,
    *,
    community: str | None,
    grid: str | None,
    since: dt.datetime,
    until: dt.datetime,
) -> list[tuple[str, str, int]]:
    """(channel, status, count) of demands created in [since, until)."""
    stmt = (
        select(col(Demand.channel), col(Demand.status), func.count())
        .where(col(Demand.created_at) >= since)
        .where(col(Demand.created_at) < until)
        .group_by(col(Demand.channel), col(Demand.status))
    )
    stmt = scoped(stmt, Demand, principal)
    if principal.kind == "client":
        stmt = stmt.where(col(Demand.source_client) == principal.subject)
    if community:
        stmt = stmt.where(col(Demand.community) == community)
    if grid:
        stmt = stmt.where(col(Demand.grid) == grid)
    return [(c, s, int(n)) for c, s, n in (await session.execute(stmt)).all()]


async def insert_demands(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    if rows:
        await session.execute(insert(Demand), rows)


async def count_demands_logged_by(session: AsyncSession, logged_by: str) -> int:
    stmt = select(func.count()).select_from(Demand).where(col(Demand.logged_by) == logged_by)
    return int((await session.execute(stmt)).scalar_one())
