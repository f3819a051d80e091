"""The transactional outbox: same-transaction enqueue, retries, dead letters, order, replicas."""

from __future__ import annotations

import asyncio
import datetime as dt
import random
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import MetaData, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from doorstep_shared.clock import utcnow
from doorstep_shared.db.engine import create_engine
from doorstep_shared.db.outbox import (
    OutboxMessage,
    OutboxWorker,
    backoff_delay,
    enqueue,
    make_outbox_table,
)
from doorstep_shared.db.session import make_sessionmaker

from ...support import PG_URL

pytestmark = pytest.mark.dates

metadata = MetaData()
table = make_outbox_table(metadata, "test_outbox")
T0 = dt.datetime(2026, 11, 1, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
async def maker(db_backend: str, tmp_path: Path) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    schema = None
    if db_backend == "sqlite":
        engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'outbox.db'}")
    else:
        schema = f"t_outbox_{uuid.uuid4().hex[:8]}"
        setup = create_engine(PG_URL, null_pool=True)
        async with setup.begin() as conn:
            await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        await setup.dispose()
        engine = create_engine(PG_URL, schema=schema, pool_size=10)
    async with engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    try:
        yield make_sessionmaker(engine)  # type: ignore[misc]
    finally:
        await engine.dispose()
        if schema:
            cleanup = create_engine(PG_URL, null_pool=True)
            async with cleanup.begin() as conn:
                await conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            await cleanup.dispose()


class Recorder:
    def __init__(self, fail: set[str] | None = None) -> None:
        self.seen: list[OutboxMessage] = []
        self.fail = fail or set()

    async def __call__(self, session: AsyncSession, message: OutboxMessage) -> None:
        if message.payload.get("name") in self.fail:
            raise RuntimeError("receiver down")
        self.seen.append(message)


async def _put(maker: async_sessionmaker[AsyncSession], *items: tuple[str, str], now: dt.datetime = T0) -> None:
    async with maker() as session, session.begin():
        for key, name in items:
            await enqueue(session, table, "thing.happened", key, {"name": name}, now=now)


async def _rows(maker: async_sessionmaker[AsyncSession]) -> list[dict]:
    async with maker() as session:
        rows = (await session.execute(select(table).order_by(table.c.id))).mappings().all()
    return [dict(r) for r in rows]


async def test_a_message_exists_only_if_its_transaction_committed(
    maker: async_sessionmaker[AsyncSession],
) -> None:
    async with maker() as session:
        await enqueue(session, table, "thing.happened", "k:1", {"name": "lost"}, now=T0)
        await session.rollback()
    await _put(maker, ("k:1", "kept"))
    recorder = Recorder()
    worker = OutboxWorker(maker, table, recorder)
    assert await worker.run_until_idle(T0) == 1
    assert await worker.run_until_idle(T0) == 0
    assert [m.payload["name"] for m in recorder.seen] == ["kept"]
    [row] = await _rows(maker)
    assert row["delivered_at"] == T0 and row["attempts"] == 1


async def test_failures_back_off_then_dead_letter_without_blocking_the_key(
    maker: async_sessionmaker[AsyncSession],
) -> None:
    await _put(maker, ("k:1", "bad"), ("k:1", "after"))
    recorder = Recorder(fail={"bad"})
    worker = OutboxWorker(maker, table, recorder, max_attempts=3, base_delay=10, max_delay=100)
    now = T0
    for attempt in (1, 2):
        assert await worker.run_once(now) == 0
        bad = (await _rows(maker))[0]
        assert bad["attempts"] == attempt and "receiver down" in bad["last_error"]
        delay = (bad["available_at"] - now).total_seconds()
        ceiling = min(100, 10 * 2 ** (attempt - 1))
        assert ceiling / 2 <= delay <= ceiling
        # not due before its time; the later message of the same key waits behind it
        assert await worker.run_once(now + dt.timedelta(seconds=1)) == 0
        now = bad["available_at"]
    assert await worker.run_once(now) == 0  # third failure: dead-lettered
    bad, _after = await _rows(maker)
    assert bad["dead_at"] == now and bad["delivered_at"] is None
    assert await worker.run_once(now) == 1
    assert [m.payload["name"] for m in recorder.seen] == ["after"]


async def test_messages_of_one_key_are_delivered_in_order_others_are_not_held_up(
    maker: async_sessionmaker[AsyncSession],
) -> None:
    await _put(maker, ("a", "a1"), ("b", "b1"), ("a", "a2"), ("b", "b2"))
    recorder = Recorder(fail={"a1"})
    worker = OutboxWorker(maker, table, recorder, base_delay=60)
    await worker.run_until_idle(T0)
    assert [m.payload["name"] for m in recorder.seen] == ["b1", "b2"]
    recorder.fail.clear()
    await worker.run_until_idle(T0 + dt.timedelta(hours=1))
    assert [m.payload["name"] for m in recorder.seen] == ["b1", "b2", "a1", "a2"]


async def test_several_workers_deliver_each_message_exactly_once(
    maker: async_sessionmaker[AsyncSession],
) -> None:
    await _put(maker, *((f"k:{i % 17}", f"m{i}") for i in range(200)))
    recorder = Recorder()
    workers = [OutboxWorker(maker, table, recorder, batch_size=7) for _ in range(4)]
    delivered = await asyncio.gather(*(w.run_until_idle(T0, max_batches=1000) for w in workers))
    assert sum(delivered) == 200
    names = [m.payload["name"] for m in recorder.seen]
    assert sorted(names) == sorted(f"m{i}" for i in range(200))
    for key in range(17):  # per key, in order
        ids = [m.id for m in recorder.seen if m.key == f"k:{key}"]
        assert ids == sorted(ids)


async def test_run_forever_stops_when_asked(maker: async_sessionmaker[AsyncSession]) -> None:
    await _put(maker, ("k", "x"), now=utcnow())  # run_forever reads the clock itself
    recorder = Recorder()
    stop = asyncio.Event()
    worker = OutboxWorker(maker, table, recorder, poll_interval=0.01)
    task = asyncio.create_task(worker.run_forever(stop))
    for _ in range(200):
        if recorder.seen:
            break
        await asyncio.sleep(0.01)
    stop.set()
    await asyncio.wait_for(task, 2)
    assert len(recorder.seen) == 1


def test_backoff_grows_exponentially_with_jitter_and_a_cap() -> None:
    rng = random.Random(7)
    delays = [backoff_delay(n, base=2, cap=60, rng=rng) for n in range(1, 10)]
    for n, d in enumerate(delays, start=1):
        ceiling = min(60, 2 * 2 ** (n - 1))
        assert ceiling / 2 <= d <= ceiling
    assert len({round(d, 6) for d in delays}) == len(delays)
