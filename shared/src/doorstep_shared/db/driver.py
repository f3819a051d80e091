"""The hottest reads on PostgreSQL, run on asyncpg's own connection.

For the field app's resident reads SQLAlchemy cost more CPU than the database did: building the
statement, finding it in the compiled cache, processing every value of every row, and a greenlet
hand-off per await (``bench/README.md``, "Read path"). A :class:`DriverQuery` is a Core SELECT
compiled once for PostgreSQL (positional ``$n`` parameters) and then run on an asyncpg connection
taken from the engine's own pool without a SQLAlchemy ``Connection`` around it (:func:`hot_read`):
one round trip, rows as named tuples read by attribute like Core rows. asyncpg prepares it once
per connection. The pool's rules stay the engine's (size, recycling, a closed connection dropped
at checkout); a statement runs on its own, in no transaction (what ``read_only_engine`` does).

What it does not do, so the statement must not need it: expanding ``IN`` parameters (bind an
array with :func:`among`, ``= ANY($n)``) and result processing by type decorators (a column
whose Python value differs from asyncpg's, such as a JSON string, is not a candidate).
``UTCDateTime`` needs none on PostgreSQL: asyncpg already returns aware UTC instants.

Errors are SQLAlchemy's, so the apps' handlers answer them as for any statement: the server's
errors as ``DBAPIError`` (classified by SQLSTATE: 22 → 422, 23 → 409, else 503; a connection the
server closed is 08003, a value asyncpg cannot encode 22000), any other failure (the
connection's, asyncpg's own state) as ``OperationalError`` (503); the connection is
invalidated either way, and so is one whose read was cancelled mid-statement. The parameters are
not attached to the error (personal data); the server's own message may quote a value, which is
why the handlers log only the SQLSTATE. SQLite has no such path: :func:`hot_read` gives a
SQLAlchemy connection there, and callers keep the Core statement for it.
"""

from __future__ import annotations

import asyncio
from collections import namedtuple
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
from sqlalchemy import ARRAY, ColumnElement, any_, bindparam
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DataError, DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.sql import Select
from sqlalchemy.util import greenlet_spawn
from sqlmodel.ext.asyncio.session import AsyncSession

from .engine import intent


class DriverConnection:
    """An asyncpg connection checked out of a SQLAlchemy engine's pool (see :func:`hot_read`)."""

    __slots__ = ("_pooled", "dialect", "driver")

    def __init__(self, pooled: Any, dialect: Dialect) -> None:
        self._pooled = pooled
        self.dialect = dialect
        self.driver: asyncpg.Connection = pooled.driver_connection

    def invalidate(self) -> None:
        """The connection leaves the pool (closed), which opens a new one when next needed."""
        self._pooled.invalidate()


@asynccontextmanager
async def hot_read(engine: AsyncEngine) -> AsyncIterator[DriverConnection | AsyncConnection]:
    """A connection for one hot read: on asyncpg a :class:`DriverConnection` (no SQLAlchemy
    ``Connection``, transaction or greenlet hand-off per statement), elsewhere a plain
    ``AsyncConnection`` of ``engine`` for the Core statement."""
    if engine.dialect.driver != "asyncpg":
        with intent(False):  # SQLite: a deferred BEGIN, no write lock, whatever the method
            async with engine.connect() as conn:
                yield conn
        return
    pooled = await engine.raw_connection()
    try:
        yield DriverConnection(pooled, engine.dialect)
    except asyncio.CancelledError:
        # Cancelled in the middle of a statement, asyncpg's protocol would still be waiting for
        # its answer: the connection leaves the pool instead of failing the next request.
        pooled.invalidate()
        raise
    finally:
        await greenlet_spawn(pooled.close)  # back to the pool (closing one may await)


def among(column: Any, name: str, *, arrays: bool) -> ColumnElement[bool]:
    """``column`` is one of the values bound as ``name`` (a list): ``= ANY($n)`` with the list
    bound as one array where the statement runs on the driver (``arrays``), an expanding ``IN``
    elsewhere (SQLite)."""
    condition: ColumnElement[bool]
    if arrays:
        condition = column == any_(bindparam(name, type_=ARRAY(column.type)))
    else:
        condition = column.in_(bindparam(name, expanding=True))
    return condition


class DriverQuery:
    """A Core SELECT run on asyncpg itself (see the module). Compiled with the first connection's
    dialect, once; ``rows`` binds parameters by name and answers named tuples of the statement's
    column labels."""

    def __init__(self, stmt: Select[Any]) -> None:
        self.stmt = stmt
        self.row = namedtuple("DriverRow", [c.key for c in stmt.selected_columns])  # type: ignore[misc]
        self._sql: str | None = None
        self._names: tuple[str, ...] = ()
        self._literals: dict[str, Any] = {}

    def _compile(self, conn: DriverConnection) -> str:
        compiled = self.stmt.compile(dialect=conn.dialect)
        if "POSTCOMPILE" in str(compiled):
            raise ValueError("an expanding parameter cannot run on the driver: bind an array (among())")
        self._names = tuple(compiled.positiontup or ())
        # Values written in the statement itself (``func.f(3)``) are parameters too, named by SQLAlchemy.
        self._literals = {name: value for name, value in compiled.params.items() if value is not None}
        self._sql = str(compiled)
        return self._sql

    async def rows(self, conn: DriverConnection, params: dict[str, Any]) -> list[Any]:
        """The rows for ``params`` (every bound parameter by name)."""
        sql = self._sql or self._compile(conn)
        literals = self._literals
        args = [params[name] if name in params else literals[name] for name in self._names]
        try:
            records: Sequence[Any] = await conn.driver.fetch(sql, *args)
        except Exception as error:  # the driver's only (cancellation passes through)
            # Whatever failed, the connection leaves the pool: after some client-side errors
            # asyncpg's protocol is left mid-operation and would fail the next request.
            conn.invalidate()
            raise _translated(sql, error) from error
        row = self.row
        return [row(*record) for record in records]


# Where a hot read runs: a driver connection (PostgreSQL, ``hot_read``) or SQLAlchemy's (SQLite, or a
# request's session or connection).
HotReader = DriverConnection | AsyncConnection | AsyncSession


class HotQuery:
    """One read for both paths, built once each: ``build(False)`` for SQLAlchemy (SQLite, or a
    request's session or connection: lists bound as expanding ``IN``), ``build(True)`` for the
    driver (lists bound as arrays, see :func:`among`; it may add columns the other path reads in
    a query of its own). ``rows`` runs the one that fits the connection it is given."""

    def __init__(self, build: Callable[[bool], Select[Any]]) -> None:
        self.core = build(False)
        self.driver = DriverQuery(build(True))

    async def rows(self, conn: HotReader, params: dict[str, Any]) -> Sequence[Any]:
        if isinstance(conn, DriverConnection):
            return await self.driver.rows(conn, params)
        rows: Sequence[Any] = (await conn.execute(self.core, params)).all()
        return rows


def _translated(sql: str, error: Exception) -> DBAPIError:
    if isinstance(error, asyncpg.PostgresError):  # the server's, or a value it cannot take
        return DBAPIError(sql, None, error, hide_parameters=True)
    if isinstance(error, ValueError):  # a value asyncpg could not encode for its parameter
        return DataError(sql, None, error, hide_parameters=True)
    return OperationalError(sql, None, error, hide_parameters=True)  # the connection: 503
