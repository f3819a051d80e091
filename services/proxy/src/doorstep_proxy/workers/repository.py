"""Every query for workers' field profiles and the grids they serve (tenancy: tenancy.scoped)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, insert, select
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from doorstep_shared.auth.tokens import Principal

from ..tenancy import scoped
from .models import WorkerGrid, WorkerProfile


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


async def workers_named(session: AsyncSession, usernames: Sequence[str]) -> Sequence[WorkerProfile]:
    stmt = select(WorkerProfile).where(col(WorkerProfile.username).in_(list(usernames))).with_for_update()
    return (await session.execute(stmt)).scalars().all()


async def all_workers(session: AsyncSession, *, for_update: bool = False) -> Sequence[WorkerProfile]:
    stmt = select(WorkerProfile).order_by(col(WorkerProfile.username))
    if for_update:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).scalars().all()


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
