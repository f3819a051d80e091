"""Database plumbing: engines for SQLite and PostgreSQL, the request session, column types."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from contextvars import ContextVar
from typing import Any

from sqlalchemy import JSON, DateTime, MetaData, String, TypeDecorator, event, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.orm import registry
from sqlalchemy.pool import NullPool
from sqlmodel.ext.asyncio.session import AsyncSession

from .errors import DoorstepError

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def new_registry() -> registry:
    """A mapper registry with its own MetaData, so each service's tables stay its own:
    ``class CatalogModel(SQLModel, registry=new_registry()): pass``."""
    return registry(metadata=MetaData(naming_convention=NAMING_CONVENTION))


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Timezone-aware UTC instants on both databases (SQLite stores them naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where a UTC instant is expected")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


JSONType = JSON().with_variant(JSONB(), "postgresql")
ShortString = String(64)


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
            # Pre-ping costs a round trip per checkout (measured in bench/), but without it a
            # database restart left stale pooled connections answering 503 until recycled; the
            # PostgreSQL restart drill (tests/e2e/test_faults.py) holds us to recovering by itself.
            kwargs.update(
                pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True, pool_recycle=1800, pool_timeout=10
            )
    engine = create_async_engine(url, **kwargs)
    if is_sqlite(url):
        _configure_sqlite(engine)
    return engine


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

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if sqlite_write_intent.get() else "BEGIN")


# On SQLite a writer takes the database lock when its transaction begins (BEGIN IMMEDIATE), so
# that two writers queue instead of failing when one upgrades its lock. Reads need no lock in
# WAL mode: a request that only reads (GET/HEAD) begins a plain deferred transaction and never
# waits behind a long writer. A GET that does write (read-your-writes refreshes) says so with
# ``mark_write_intent()`` (or the ``writes_on_read`` dependency) before its first statement.
sqlite_write_intent: ContextVar[bool] = ContextVar("doorstep_sqlite_write_intent", default=True)


def mark_write_intent(writes: bool = True) -> None:
    sqlite_write_intent.set(writes)


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False, autoflush=False)


@asynccontextmanager
async def session_scope(factory: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """One session per request: committed if the handler returns, rolled back if it raises."""
    async with factory() as session:
        try:
            yield session
        except DoorstepError as exc:
            # Some refusals must still keep what they recorded (failed-login counters, audit).
            await (session.commit() if exc.keep_changes else session.rollback())
            raise
        except BaseException:
            await session.rollback()
            raise
        else:
            await session.commit()


async def ping(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        await conn.execute(text("SELECT 1"))
