"""Every directory query: the stored records of each kind, the change history, bulk writes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import insert, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from doorstep_shared.clock import utcnow

from .models import Community, Compound, County, DirectoryChange, DirectoryGeneration, Grid

Record = County | Community | Grid | Compound
KINDS: dict[str, type[Record]] = {"counties": County, "communities": Community, "grids": Grid, "compounds": Compound}


async def list_communities(session: AsyncSession) -> Sequence[Community]:
    return (await session.exec(select(Community).order_by(col(Community.code)))).all()


async def list_grids(session: AsyncSession) -> Sequence[Grid]:
    return (await session.exec(select(Grid).order_by(col(Grid.community), col(Grid.number)))).all()


async def all_of(session: AsyncSession, kind: str) -> Sequence[Any]:
    model = KINDS[kind]
    return (await session.exec(select(model).order_by(col(model.code)))).all()


async def compounds_page(
    session: AsyncSession, after: str | None, limit: int, *, community: str | None, grid: str | None
) -> Sequence[Compound]:
    """Compounds by code after ``after``: up to ``limit`` + 1 (the extra one says there is more)."""
    query = select(Compound).order_by(col(Compound.code)).limit(limit + 1)
    if after is not None:
        query = query.where(col(Compound.code) > after)
    if community is not None:
        query = query.where(col(Compound.community) == community)
    if grid is not None:
        query = query.where(col(Compound.grid) == grid)
    return (await session.exec(query)).all()


async def one(session: AsyncSession, kind: str, code: str, *, for_update: bool = False) -> Any | None:
    model = KINDS[kind]
    query = select(model).where(col(model.code) == code)
    if for_update:
        query = query.with_for_update()
    return (await session.exec(query)).first()


async def generation(session: AsyncSession) -> tuple[int, dt.datetime | None]:
    """The stored directory's generation (generation, changed_at): it moves with every write."""
    query = select(DirectoryGeneration.generation, DirectoryGeneration.changed_at).where(
        col(DirectoryGeneration.id) == 1
    )
    row = (await session.exec(query)).first()
    return (row[0], row[1]) if row else (0, None)


async def lock_generation(session: AsyncSession) -> None:
    """Take the generation row for this transaction (directory writes queue here on PostgreSQL;
    SQLite's writes are serial anyway). Made if missing."""
    query = select(DirectoryGeneration).where(col(DirectoryGeneration.id) == 1).with_for_update()
    if (await session.exec(query)).first() is None:
        session.add(DirectoryGeneration(id=1, generation=0))
        await session.flush()


async def bump_generation(session: AsyncSession) -> None:
    await session.execute(
        update(DirectoryGeneration)
        .where(col(DirectoryGeneration.id) == 1)
        .values(generation=DirectoryGeneration.generation + 1, changed_at=utcnow())
    )


async def add(session: AsyncSession, record: Any) -> None:
    session.add(record)
    await session.flush()


async def insert_many(session: AsyncSession, kind: str, values: list[dict[str, Any]]) -> None:
    if values:
        await session.execute(insert(KINDS[kind]), values)


async def update_many(session: AsyncSession, kind: str, values: list[dict[str, Any]]) -> None:
    """Bulk UPDATE by primary key: each dict holds ``code`` and the fields to set."""
    if values:
        await session.execute(update(KINDS[kind]), values)


async def record_changes(session: AsyncSession, changes: list[dict[str, Any]]) -> None:
    if changes:
        await session.execute(insert(DirectoryChange), changes)


async def history(session: AsyncSession, kind: str, code: str, limit: int = 100) -> Sequence[DirectoryChange]:
    query = (
        select(DirectoryChange)
        .where(col(DirectoryChange.kind) == kind, col(DirectoryChange.code) == code)
        .order_by(col(DirectoryChange.id).desc())
        .limit(limit)
    )
    return (await session.exec(query)).all()


async def count_active_children(session: AsyncSession, kind: str, code: str, until: dt.datetime) -> int:
    """Children of a record still active at ``until`` (or later)."""
    child: Any
    child, parent = {
        "counties": (Community, "county"),
        "communities": (Grid, "community"),
        "grids": (Compound, "grid"),
    }[kind]
    ends = col(child.active_to)
    query = select(child.code).where(getattr(child, parent) == code, ends.is_(None) | (ends > until))
    return len((await session.exec(query)).all())
