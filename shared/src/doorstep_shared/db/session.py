"""Sessions: one per request (committed or rolled back once), reading outside a transaction
on PostgreSQL when the request has no write intent, and the FastAPI dependency that hands a
request its session (``DbSession``)."""

from __future__ import annotations

import warnings
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, async_sessionmaker
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.selectable import GenerativeSelect
from sqlmodel import Session
from sqlmodel.ext.asyncio.session import AsyncSession

from ..audit_anchor import AUDIT_TRUST, AuditTrust
from ..http.errors import DoorstepError
from .engine import intent, mark_write_intent, write_intent


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


def read_only_engine(engine: AsyncEngine) -> AsyncEngine:
    """What a read-only request reads on: on PostgreSQL the AUTOCOMMIT variant of ``engine``
    (same pool; each SELECT its own snapshot under READ COMMITTED, no BEGIN/COMMIT), on SQLite
    ``engine`` itself (a deferred read transaction, which in WAL mode never waits for a writer)."""
    return engine if engine.dialect.name == "sqlite" else engine.execution_options(isolation_level="AUTOCOMMIT")


def make_sessionmaker(engine: AsyncEngine, *, audit: AuditTrust | None = None) -> async_sessionmaker[AsyncSession]:
    """Sessions for ``engine``; on PostgreSQL they read on AUTOCOMMIT connections when the
    context has no write intent (see ``ReadRoutingSession``). ``audit``: the app's audit keys
    and anchor, carried in every session's ``info`` for the audit log (never in the database)."""
    reader = None if engine.dialect.name == "sqlite" else read_only_engine(engine)
    return async_sessionmaker(
        engine,
        class_=AsyncSession,
        sync_session_class=ReadRoutingSession,
        reader=reader.sync_engine if reader is not None else None,
        expire_on_commit=False,
        autoflush=False,
        info={AUDIT_TRUST: audit} if audit is not None else None,
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


async def request_session(request: Request) -> AsyncIterator[AsyncSession]:
    """The request's session, from the app's ``state.sessionmaker`` (set in its lifespan)."""
    factory: async_sessionmaker[AsyncSession] = request.app.state.sessionmaker
    with intent(request.method not in ("GET", "HEAD", "OPTIONS")):
        async with session_scope(factory) as session:
            yield session


# The request's session: committed when the handler returns, before the response is sent.
DbSession = Annotated[AsyncSession, Depends(request_session, scope="function")]


async def request_connection(request: Request) -> AsyncIterator[AsyncConnection]:
    """A connection for the hottest reads, without a session: routes that only run one or two
    prepared Core statements (the field app's resident reads) skip the ``AsyncSession`` — its
    unit of work, transaction bookkeeping and greenlet hand-offs, measured at ~450 µs of CPU per
    request (bench/README.md, "Read path"). From ``state.read_engine`` (``read_only_engine``);
    nothing written on it is ever committed."""
    engine: AsyncEngine = request.app.state.read_engine
    # SQLite: a plain deferred BEGIN (no write lock) whatever the request's method.
    with intent(False):
        async with engine.connect() as conn:
            yield conn


# A read-only connection for the hottest reads (see ``request_connection``); DbSession for the rest.
ReadConnection = Annotated[AsyncConnection, Depends(request_connection, scope="function")]


async def writes_on_read(session: DbSession) -> None:
    """For a GET that writes (e.g. a read-your-writes refresh): one transaction from the first
    statement (PostgreSQL), the write lock taken up front (SQLite). Depends on the session so
    that it runs after the session dependency's own default."""
    mark_write_intent(True)


WritesOnRead = Depends(writes_on_read)
