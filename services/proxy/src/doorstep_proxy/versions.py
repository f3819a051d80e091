"""The two numbers every mutable row carries: ``version`` (its ETag; an ``If-Match`` naming an
older one gets 412) and ``row_version`` (from the change counter; the offline sync feed follows
it, never the wall clock)."""

from __future__ import annotations

from sqlalchemy import insert, select, update
from sqlmodel import Field, col
from sqlmodel.ext.asyncio.session import AsyncSession

from doorstep_shared.http.errors import PreconditionFailed

from .db import ProxyModel


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
    if value is None:
        await session.execute(insert(ChangeSequence).values(name=name, value=count))
        return count
    return int(value)


async def sequence_value(session: AsyncSession, name: str) -> int:
    stmt = select(col(ChangeSequence.value)).where(col(ChangeSequence.name) == name)
    return int((await session.execute(stmt)).scalar_one_or_none() or 0)


async def set_sequence_value(session: AsyncSession, name: str, value: int) -> None:
    updated = await session.execute(update(ChangeSequence).where(col(ChangeSequence.name) == name).values(value=value))
    if not getattr(updated, "rowcount", 0):
        await session.execute(insert(ChangeSequence).values(name=name, value=value))


def check_if_match(if_match: str | None, current_etag: str, current_version: int) -> None:
    """412 when ``If-Match`` names an older version (absent header: last write wins)."""
    if if_match is None:
        return
    tags = [t.strip().removeprefix("W/") for t in if_match.split(",") if t.strip()]
    if "*" in tags or current_etag in tags:
        return
    raise PreconditionFailed(
        "The resource has changed since you read it; reload and retry.",
        code="stale_etag",
        current_etag=current_etag,
        current_version=current_version,
    )
