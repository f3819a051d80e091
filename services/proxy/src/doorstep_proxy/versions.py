"""The two numbers every mutable row carries: ``version`` (its ETag; an ``If-Match`` naming an
older one gets 412 through ``doorstep_shared.http.check_if_match``) and ``row_version`` (from the
change counter; the offline sync feed follows it, never the wall clock)."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlmodel import Field, col
from sqlmodel.ext.asyncio.session import AsyncSession

from .db import ProxyModel, dialect_insert


class ChangeSequence(ProxyModel, table=True):
    """Per-service counters; ``changes`` stamps every write's ``row_version``."""

    __tablename__ = "change_sequence"

    name: str = Field(primary_key=True, max_length=32)
    value: int = 0


async def next_row_versions(session: AsyncSession, count: int = 1, name: str = "changes") -> int:
    """Reserve ``count`` change numbers; returns the last one (the range ends there).

    One UPDATE … RETURNING on a single row: writers queue on that row lock (PostgreSQL) or the
    database lock (SQLite), so numbers follow commit order closely enough for a sync feed that
    re-reads a short overlap.
    """
    stmt = (
        update(ChangeSequence)
        .where(col(ChangeSequence.name) == name)
        .values(value=col(ChangeSequence.value) + count)
        .returning(col(ChangeSequence.value))
    )
    value = (await session.execute(stmt)).scalar_one_or_none()
    if value is None:  # the counter's first number: two first writers may race to make its row
        table = ChangeSequence.__table__  # type: ignore[attr-defined]
        first = (
            dialect_insert(session)(table)
            .values(name=name, value=count)
            .on_conflict_do_update(index_elements=[table.c.name], set_={"value": table.c.value + count})
            .returning(table.c.value)
        )
        value = (await session.execute(first)).scalar_one()
    return int(value)


async def sequence_value(session: AsyncSession, name: str) -> int:
    stmt = select(col(ChangeSequence.value)).where(col(ChangeSequence.name) == name)
    return int((await session.execute(stmt)).scalar_one_or_none() or 0)


async def set_sequence_value(session: AsyncSession, name: str, value: int) -> None:
    table = ChangeSequence.__table__  # type: ignore[attr-defined]
    upsert = dialect_insert(session)(table).values(name=name, value=value)
    await session.execute(upsert.on_conflict_do_update(index_elements=[table.c.name], set_={"value": value}))
