"""Database plumbing: engines for SQLite and PostgreSQL, the request session, column types."""

from __future__ import annotations

import datetime as dt
import warnings
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from contextvars import ContextVar
from typing import Any

from sqlalchemy import JSON, DateTime, MetaData, String, TypeDecorator, event, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect, Engine
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.orm import registry
from sqlalchemy.pool import NullPool
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.selectable import GenerativeSelect
from sqlmodel import Session
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
            # No pool_pre_ping: on asyncpg it costs three round trips per checkout (BEGIN, ping,
            # ROLLBACK; measured in bench/README.md). _drop_closed_on_checkout does its job for a
            # database restart without a round trip; the PostgreSQL restart drill
            # (tests/e2e/test_faults.py) holds us to recovering by ourselves.
            kwargs.update(pool_size=pool_size, max_overflow=pool_size, pool_recycle=1800, pool_timeout=10)
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

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write_intent.get() else "BEGIN")


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


class ReadRoutingSession(Session):
    """A session that knows whether it only read, and on PostgreSQL reads outside a transaction
    when the context has no write intent.

    Under READ COMMITTED every statement takes its own snapshot anyway, so BEGIN and COMMIT
    around a read-only request's SELECTs only add two round trips. Anything else (DML, SELECT …
    FOR UPDATE, textual SQL, a bare ``connection()``, a flush) goes to the transactional engine,
    and from then on so does the rest of the session: reads after a write see it, and the write
    commits or rolls back with the request. A request that writes after reading without
    declaring it gets a warning, since it then holds two pooled connections at once."""

    def __init__(self, *args: Any, reader: Engine | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._reader = reader
        self._has_read = False
        self._wrote = False

    def get_bind(self, mapper: Any = None, *, clause: ClauseElement | None = None, **kw: Any) -> Any:
        bind = super().get_bind(mapper, clause=clause, **kw)
        # Select and UNION & co.; FOR UPDATE (kept in _for_update_arg) needs the transaction.
        if isinstance(clause, GenerativeSelect) and clause._for_update_arg is None:
            if self._reader is None or self._wrote or write_intent.get():
                return bind
            self._has_read = True
            return self._reader
        if not self._wrote:
            self._wrote = True
            if self._has_read and self._reader is not None:
                warnings.warn(
                    "a read-only request wrote after reading; declare it with WritesOnRead",
                    RuntimeWarning,
                    stacklevel=2,
                )
        return bind

    @property
    def only_read(self) -> bool:
        """Nothing but plain SELECTs ran and nothing waits to be flushed: ending the session
        needs no COMMIT (nor the unit of work's commit bookkeeping)."""
        return not (self._wrote or self.new or self.dirty or self.deleted)


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions for ``engine``; on PostgreSQL they read on AUTOCOMMIT connections when the
    context has no write intent (see ``ReadRoutingSession``)."""
    reader = None if engine.dialect.name == "sqlite" else engine.execution_options(isolation_level="AUTOCOMMIT")
    return async_sessionmaker(
        engine,
        class_=AsyncSession,
        sync_session_class=ReadRoutingSession,
        reader=reader.sync_engine if reader is not None else None,
        expire_on_commit=False,
        autoflush=False,
    )


@asynccontextmanager
async def session_scope(factory: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """One session per request: committed if the handler returns, rolled back if it raises.
    A read-only context's session that only read is just closed (nothing to commit)."""
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
            sync = session.sync_session
            if write_intent.get() or not isinstance(sync, ReadRoutingSession) or not sync.only_read:
                await session.commit()


async def ping(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        await conn.execute(text("SELECT 1"))
