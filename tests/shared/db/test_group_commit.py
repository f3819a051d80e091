"""GroupCommit: each add returns once its row is committed; rows added together share a
transaction; a failed batch raises in every request of it and stores none of its rows, and the
next batch is written afresh; a unique key violated by one row fails that batch only."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel.ext.asyncio.session import AsyncSession

from doorstep_shared.db.group_commit import GroupCommit
from doorstep_shared.db.session import make_sessionmaker

from ...support import engine_with

METADATA = MetaData()
T = Table("group_commit_t", METADATA, Column("n", Integer, primary_key=True), Column("word", String(8)))


@pytest.fixture
async def engine(db_backend: str, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    async with engine_with(METADATA, db_backend, tmp_path) as eng:
        yield eng


async def write(session: AsyncSession, rows: Sequence[dict[str, object]]) -> None:
    await session.execute(T.insert(), list(rows))


async def stored(engine: AsyncEngine) -> list[int]:
    async with engine.connect() as conn:
        return list((await conn.execute(select(T.c.n).order_by(T.c.n))).scalars())


async def test_concurrent_rows_are_all_committed_in_fewer_transactions(engine: AsyncEngine) -> None:
    sessions = make_sessionmaker(engine)
    log: GroupCommit[dict[str, object]] = GroupCommit(lambda: sessions, write, max_batch=20)

    async def add(n: int) -> list[int]:
        await log.add({"n": n, "word": f"w{n}"})
        return await stored(engine)  # committed before add returned: visible to another connection

    seen = await asyncio.gather(*(add(n) for n in range(100)))
    assert all(n in rows for n, rows in enumerate(seen))
    assert await stored(engine) == list(range(100))
    assert 5 <= log.batches < 100  # at most 20 a transaction, and shared


async def test_a_failed_batch_raises_in_each_request_and_the_next_batch_is_written(engine: AsyncEngine) -> None:
    sessions = make_sessionmaker(engine)
    log: GroupCommit[dict[str, object]] = GroupCommit(lambda: sessions, write)
    await log.add({"n": 1, "word": "first"})
    # One batch: a new row and a row whose key is taken; the whole batch is refused.
    results = await asyncio.gather(
        log.add({"n": 2, "word": "new"}), log.add({"n": 1, "word": "again"}), return_exceptions=True
    )
    assert all(isinstance(r, IntegrityError) for r in results)
    assert await stored(engine) == [1]  # nothing of the failed batch, nothing lost before it
    await log.add({"n": 2, "word": "new"})
    assert await stored(engine) == [1, 2]
    async with engine.connect() as conn:
        assert (await conn.execute(select(func.count()).select_from(T))).scalar_one() == 2


async def test_a_request_that_goes_away_leaves_its_row_to_be_written(engine: AsyncEngine) -> None:
    sessions = make_sessionmaker(engine)
    log: GroupCommit[dict[str, object]] = GroupCommit(lambda: sessions, write)
    first = asyncio.create_task(log.add({"n": 1, "word": "a"}))
    gone = asyncio.create_task(log.add({"n": 2, "word": "b"}))
    await asyncio.sleep(0)
    gone.cancel()  # the client hung up while its row waited
    await first
    for _ in range(100):
        if log._writer is None:
            break
        await asyncio.sleep(0.01)
    assert await stored(engine) == [1, 2]


def test_a_batch_has_at_least_one_row() -> None:
    with pytest.raises(ValueError, match="max_batch"):
        GroupCommit(lambda: None, write, max_batch=0)  # type: ignore[arg-type,return-value]
