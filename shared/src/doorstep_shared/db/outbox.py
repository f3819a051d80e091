"""A transactional outbox: messages written with the change, delivered later by a worker.

A service adds the table to its own MetaData with :func:`make_outbox_table`, queues messages
with :func:`enqueue` in the request's session (so a message exists if and only if the change
committed), and runs an :class:`OutboxWorker` that claims due rows, calls a handler and marks
them delivered, or reschedules them with exponential back-off and jitter, or dead-letters them
after ``max_attempts``.

Several replicas may run the worker at once: on PostgreSQL rows are claimed with
``SELECT ... FOR UPDATE SKIP LOCKED``; on SQLite every write transaction starts with
``BEGIN IMMEDIATE`` (see :mod:`doorstep_shared.db.engine`), which serialises claimers.

Messages of one ``key`` (an aggregate such as ``ticket:17``) are delivered in order: a row is
due only when no earlier undelivered, not dead-lettered row of the same key exists. The
handler runs inside the claiming transaction (in a savepoint), so a handler that writes to the
same database (e.g. a notification log) takes effect exactly once; a handler that talks to the
outside world is at-least-once and should pass the message id on as an idempotency key.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import random
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Column,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    and_,
    exists,
    insert,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession as SAAsyncSession
from sqlalchemy.ext.asyncio import async_sessionmaker

from ..clock import utcnow
from .columns import BigIntId, JSONType, UTCDateTime

logger = logging.getLogger("doorstep.outbox")


def make_outbox_table(metadata: MetaData, name: str = "outbox") -> Table:
    """The outbox table, defined in the caller's MetaData (so its migrations create it)."""
    return Table(
        name,
        metadata,
        Column("id", BigIntId, primary_key=True, autoincrement=True),
        Column("topic", String(100), nullable=False),
        Column("key", String(200), nullable=False),
        Column("payload", JSONType, nullable=False),
        Column("created_at", UTCDateTime(), nullable=False),
        Column("available_at", UTCDateTime(), nullable=False),
        Column("attempts", Integer, nullable=False, default=0),
        Column("last_error", String(500), nullable=True),
        Column("delivered_at", UTCDateTime(), nullable=True),
        Column("dead_at", UTCDateTime(), nullable=True),
        Index(f"ix_{name}_due", "delivered_at", "dead_at", "available_at"),
        Index(f"ix_{name}_key", "key", "id"),
    )


@dataclass(frozen=True)
class OutboxMessage:
    """One claimed message, as a handler sees it."""

    id: int
    topic: str
    key: str
    payload: dict[str, Any]
    created_at: dt.datetime
    attempts: int


# A handler gets the claiming session (for same-database effects) and the message.
# It raises to ask for a retry.
Handler = Callable[[SAAsyncSession, OutboxMessage], Awaitable[None]]


async def enqueue(
    session: SAAsyncSession,
    table: Table,
    topic: str,
    key: str,
    payload: Mapping[str, Any],
    *,
    available_at: dt.datetime | None = None,
    now: dt.datetime | None = None,
) -> None:
    """Queue a message in the caller's transaction: it commits or rolls back with the change."""
    created = now or utcnow()
    conn = await session.connection()
    await conn.execute(
        insert(table).values(
            topic=topic,
            key=key,
            payload=dict(payload),
            created_at=created,
            available_at=available_at or created,
            attempts=0,
        )
    )


def backoff_delay(attempts: int, *, base: float = 2.0, cap: float = 3600.0, rng: random.Random | None = None) -> float:
    """Seconds before retry number ``attempts``: exponential, capped, with full jitter on top half."""
    ceiling = min(cap, base * 2.0 ** max(0, attempts - 1))
    r = rng.random() if rng is not None else random.random()  # noqa: S311 (jitter)
    return ceiling / 2 + r * ceiling / 2


class OutboxWorker:
    """Claims due messages in batches and hands them to ``handler``."""

    def __init__(
        self,
        sessionmaker: async_sessionmaker[Any],
        table: Table,
        handler: Handler,
        *,
        batch_size: int = 50,
        max_attempts: int = 20,
        base_delay: float = 2.0,
        max_delay: float = 3600.0,
        poll_interval: float = 1.0,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.table = table
        self.handler = handler
        self.batch_size = batch_size
        self.max_attempts = max_attempts
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.poll_interval = poll_interval

    def _due_query(self, now: dt.datetime, postgres: bool) -> Any:
        t = self.table
        earlier = t.alias("earlier")
        blocked = exists().where(
            and_(
                earlier.c.key == t.c.key,
                earlier.c.id < t.c.id,
                earlier.c.delivered_at.is_(None),
                earlier.c.dead_at.is_(None),
            )
        )
        query = (
            select(t)
            .where(
                t.c.delivered_at.is_(None),
                t.c.dead_at.is_(None),
                t.c.available_at <= now,
                ~blocked,
            )
            .order_by(t.c.id)
            .limit(self.batch_size)
        )
        if postgres:
            query = query.with_for_update(skip_locked=True, of=t)
        return query

    async def run_once(self, now: dt.datetime | None = None) -> int:
        """Claim and handle one batch; returns how many messages were delivered."""
        return (await self._run_batch(now))[1]

    async def _run_batch(self, now: dt.datetime | None) -> tuple[int, int]:
        now = now or utcnow()
        delivered = 0
        async with self.sessionmaker() as session, session.begin():
            conn = await session.connection()
            postgres = conn.dialect.name == "postgresql"
            rows = (await conn.execute(self._due_query(now, postgres))).mappings().all()
            for row in rows:
                message = OutboxMessage(
                    id=row["id"],
                    topic=row["topic"],
                    key=row["key"],
                    payload=dict(row["payload"] or {}),
                    created_at=row["created_at"],
                    attempts=row["attempts"],
                )
                if await self._deliver(session, message, now):
                    delivered += 1
        return len(rows), delivered

    async def _deliver(self, session: SAAsyncSession, message: OutboxMessage, now: dt.datetime) -> bool:
        t = self.table
        try:
            async with session.begin_nested():
                await self.handler(session, message)
        except Exception as exc:  # a failing handler must not stop the batch
            attempts = message.attempts + 1
            error = f"{type(exc).__name__}: {exc}"[:500]
            values: dict[str, Any] = {"attempts": attempts, "last_error": error}
            if attempts >= self.max_attempts:
                values["dead_at"] = now
                logger.error("outbox message %s (%s) dead-lettered", message.id, message.topic)
            else:
                delay = backoff_delay(attempts, base=self.base_delay, cap=self.max_delay)
                values["available_at"] = now + dt.timedelta(seconds=delay)
                logger.warning(
                    "outbox message %s (%s) failed, retry in %.1fs",
                    message.id,
                    message.topic,
                    delay,
                )
            conn = await session.connection()
            await conn.execute(update(t).where(t.c.id == message.id).values(**values))
            return False
        conn = await session.connection()
        await conn.execute(
            update(t)
            .where(t.c.id == message.id)
            .values(delivered_at=now, attempts=message.attempts + 1, last_error=None)
        )
        return True

    async def run_until_idle(self, now: dt.datetime | None = None, max_batches: int = 100) -> int:
        """Deliver everything due now (used by tests and one-shot jobs)."""
        total = 0
        for _ in range(max_batches):
            claimed, delivered = await self._run_batch(now)
            total += delivered
            # A delivery may unblock the next message of its key: go on while progress is made.
            if claimed < self.batch_size and delivered == 0:
                break
        return total

    async def run_forever(self, stop: asyncio.Event | None = None) -> None:
        """Poll until cancelled (or ``stop`` is set); errors are logged and the loop goes on."""
        stop = stop or asyncio.Event()
        while not stop.is_set():
            try:
                claimed, delivered = await self._run_batch(None)
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("outbox worker batch failed")
                claimed = delivered = 0
            if claimed < self.batch_size and delivered == 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=self.poll_interval)
