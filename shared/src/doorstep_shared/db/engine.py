"""Engines for SQLite and PostgreSQL, and the write intent that decides how a transaction begins."""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool
from sqlalchemy.util import await_only

logger = logging.getLogger("doorstep.db")

# How long a SQLite writer waits its turn in the process's queue before it falls back to
# SQLite's own busy handler (which then waits up to busy_timeout more).
WRITER_QUEUE_TIMEOUT = 30.0


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def create_engine(url: str, *, schema: str | None = None, pool_size: int = 10, null_pool: bool = False) -> AsyncEngine:
    """An async engine; SQLite gets WAL, foreign keys and a busy timeout, PostgreSQL a search path."""
    kwargs: dict[str, Any] = {}
    if is_sqlite(url):
        kwargs["connect_args"] = {"timeout": 30}
        if null_pool:
            kwargs["poolclass"] = NullPool
    else:
        connect_args: dict[str, Any] = {}
        if schema:
            connect_args["server_settings"] = {"search_path": schema}
        kwargs["connect_args"] = connect_args
        if null_pool:
            kwargs["poolclass"] = NullPool
        else:
            # No pool_pre_ping: on asyncpg it costs three round trips per checkout (BEGIN, ping,
            # ROLLBACK; measured in bench/README.md). _drop_closed_on_checkout does its job for a
            # database restart without a round trip; the PostgreSQL restart drill
            # (tests/e2e/test_faults.py) holds us to recovering by ourselves.
            # The pool keeps what it opened up to pool_size; a quarter more (at least one) serves
            # a moment's need of a second connection and is closed when it comes back. With 10
            # kept + 10 overflow, 16 concurrent reads opened and closed a connection (and its type
            # introspection) on most requests: the proxy's one-row read cost 1,060 µs of CPU
            # instead of 753 (bench/README.md, "Read path").
            kwargs.update(pool_size=pool_size, max_overflow=max(1, pool_size // 4), pool_recycle=1800, pool_timeout=10)
    engine = create_async_engine(url, **kwargs)
    if is_sqlite(url):
        _configure_sqlite(engine)
    elif not null_pool:
        event.listen(engine.sync_engine, "checkout", _drop_closed_on_checkout)
    return engine


def _drop_closed_on_checkout(dbapi_conn: Any, _record: Any, _proxy: Any) -> None:
    """A pooled connection whose socket the server closed (a restart terminates every backend)
    is replaced before use: asyncpg notices the close while the connection idles in the pool,
    so a local check catches it where pre-ping would spend round trips. A connection that dies
    mid-request still fails that request (503) and SQLAlchemy then invalidates the pool."""
    if dbapi_conn.driver_connection.is_closed():
        raise DisconnectionError("pooled connection closed by the server")


def _configure_sqlite(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # aiosqlite's own transaction handling is disabled so that BEGIN IMMEDIATE below
        # is ours: writers queue on the database lock instead of failing on upgrade.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    writers = WriterQueue()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        if write_intent.get():
            writers.enter(conn.info)
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            conn.exec_driver_sql("BEGIN")

    @event.listens_for(engine.sync_engine, "commit")
    @event.listens_for(engine.sync_engine, "rollback")
    def _on_end(conn: Any) -> None:
        writers.leave(conn.info)

    # A connection that leaves the pool's hands another way (invalidated, closed) gives its turn up.
    @event.listens_for(engine.sync_engine, "checkin")
    @event.listens_for(engine.sync_engine, "invalidate")
    @event.listens_for(engine.sync_engine, "close")
    def _on_gone(_dbapi_conn: Any, record: Any, *_: Any) -> None:
        if record is not None:
            writers.leave(record.info)


class WriterQueue:
    """SQLite's writers of one process take the write lock in the order they asked for it.

    SQLite's busy handler retries a waiting writer after growing sleeps (up to 100 ms), so a
    writer that arrives later often takes the lock first and one unlucky request waits seconds
    (the write tails of bench/README.md, "A county's peak"). Here a writer first queues on an
    asyncio lock (first come, first served) when its transaction begins, from inside
    SQLAlchemy's greenlet (``await_only``), and leaves the queue when its transaction ends; so
    BEGIN IMMEDIATE meets no other writer of this process. Other processes on the same file
    still meet SQLite's busy handler. One lock per event loop (tests run several loops)."""

    KEY = "doorstep_writer_turn"

    def __init__(self) -> None:
        self._locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = weakref.WeakKeyDictionary()

    def _lock(self) -> asyncio.Lock | None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # a synchronous caller (migrations): SQLite's busy handler alone
            return None
        lock = self._locks.get(loop)
        if lock is None:
            lock = self._locks[loop] = asyncio.Lock()
        return lock

    def enter(self, info: dict[str, Any]) -> None:
        lock = self._lock()
        if lock is None or info.get(self.KEY) is not None:
            return
        try:
            await_only(_acquire(lock))
        except TimeoutError:
            logger.warning("a SQLite writer waited %.0f s for its turn; it goes on without one", WRITER_QUEUE_TIMEOUT)
            return
        info[self.KEY] = lock

    def leave(self, info: dict[str, Any]) -> None:
        lock = info.pop(self.KEY, None)
        if lock is not None and lock.locked():
            lock.release()


async def _acquire(lock: asyncio.Lock) -> None:
    # asyncio.timeout, not wait_for: on Python 3.11 wait_for can time out a lock it has just
    # acquired, which would then stay held by nobody.
    async with asyncio.timeout(WRITER_QUEUE_TIMEOUT):
        await lock.acquire()


# Whether the work in this context may write. Requests that only read (GET/HEAD) clear it; a
# GET that does write (read-your-writes refreshes) says so with ``mark_write_intent()`` (or the
# ``writes_on_read`` dependency) before its first statement. Background work keeps the default.
# SQLite: a writer takes the database lock when its transaction begins (BEGIN IMMEDIATE), so that
# two writers queue instead of failing when one upgrades its lock; reads need no lock in WAL mode,
# so a read-only request begins a plain deferred transaction and never waits behind a writer.
# PostgreSQL: a read-only session runs its SELECTs on an AUTOCOMMIT connection (see ReadRoutingSession).
write_intent: ContextVar[bool] = ContextVar("doorstep_write_intent", default=True)


def mark_write_intent(writes: bool = True) -> None:
    write_intent.set(writes)


@contextmanager
def intent(writes: bool) -> Iterator[None]:
    """The write intent for a piece of database work, restored afterwards: in-process callers
    (tests, ASGI transports) share one context."""
    token = write_intent.set(writes)
    try:
        yield
    finally:
        try:
            write_intent.reset(token)
        except ValueError:  # exited in another context: fall back to the default
            write_intent.set(True)


async def ping(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        await conn.execute(text("SELECT 1"))
