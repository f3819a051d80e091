"""Hot reads on asyncpg itself (``doorstep_shared.db.driver``): the rows a Core statement gives,
parameters bound by name, arrays bound whole; a statement it cannot run is refused when first
run; the database's errors reach the apps as SQLAlchemy's, so a request gets the usual problem
(422 for a value the column cannot take, 503 when the server is gone), never a 500, without the
parameters attached, and the connection leaves the pool. SQLite has no driver path: ``hot_read``
gives a SQLAlchemy connection there, in a deferred (read) transaction, and a ``HotQuery`` runs its
Core statement on it."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import Column, Date, Float, Integer, MetaData, Select, String, Table, bindparam, func, literal, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from doorstep_shared.db.driver import DriverConnection, DriverQuery, HotQuery, among, hot_read
from doorstep_shared.db.engine import create_engine, write_intent
from doorstep_shared.http.errors import install_error_handlers

from ...support import engine_with

METADATA = MetaData()
T = Table(
    "driver_t",
    METADATA,
    Column("n", Integer, primary_key=True),
    Column("word", String(8), nullable=False),
    Column("day", Date, nullable=False),
)
BY_WORDS = select(T.c.n, T.c.word, T.c.day).order_by(T.c.n).limit(bindparam("limit"))


@pytest.fixture
async def either(db_backend: str, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    """The same five rows on whichever database the lane runs."""
    async with engine_with(METADATA, db_backend, tmp_path) as eng:
        async with eng.begin() as conn:
            rows = [{"n": i, "word": w, "day": dt.date(2026, 1, i)} for i, w in enumerate("abcde", start=1)]
            await conn.execute(T.insert(), rows)
        yield eng


@pytest.fixture
async def engine(db_backend: str, either: AsyncEngine) -> AsyncEngine:
    if db_backend != "postgresql":
        pytest.skip("PostgreSQL only: SQLite has no driver path (hot_read gives SQLAlchemy's connection)")
    return either


async def test_rows_as_core_gives_them(engine: AsyncEngine) -> None:
    query = DriverQuery(BY_WORDS.where(among(T.c.word, "words", arrays=True)))
    async with engine.connect() as conn:
        core = (await conn.execute(BY_WORDS.where(T.c.word.in_(["e", "b", "c"])), {"limit": 2})).all()
    async with hot_read(engine) as hot:
        assert isinstance(hot, DriverConnection)
        rows = await query.rows(hot, {"words": ["e", "b", "c"], "limit": 2})
    assert (
        [tuple(r) for r in rows]
        == [tuple(r) for r in core]
        == [(2, "b", dt.date(2026, 1, 2)), (3, "c", dt.date(2026, 1, 3))]
    )
    assert rows[0].word == "b" and rows[0].day == dt.date(2026, 1, 2)  # by attribute, as a Core row


async def test_an_expanding_parameter_is_refused(engine: AsyncEngine) -> None:
    query = DriverQuery(BY_WORDS.where(among(T.c.word, "words", arrays=False)))
    async with hot_read(engine) as hot:
        assert isinstance(hot, DriverConnection)
        with pytest.raises(ValueError, match="expanding"):
            await query.rows(hot, {"words": ["a"], "limit": 1})


async def test_errors_are_sqlalchemys_without_the_parameters(engine: AsyncEngine) -> None:
    secret = "110101199003070011x"
    as_number = DriverQuery(select(func.cast(bindparam("v", type_=String), Integer).label("v")))
    unencodable = DriverQuery(select(T.c.n).where(T.c.n == bindparam("n")))
    for query, values in ((as_number, {"v": secret}), (unencodable, {"n": secret})):
        async with hot_read(engine) as hot:
            assert isinstance(hot, DriverConnection)
            driver = hot.driver
            with pytest.raises(DBAPIError) as raised:  # the server's class 22, asyncpg's: both 422
                await query.rows(hot, values)
            assert str(getattr(raised.value.orig, "sqlstate", "")).startswith("22")
            assert raised.value.params is None and raised.value.hide_parameters
        assert driver.is_closed()  # whatever failed, the connection left the pool
    async with hot_read(engine) as hot:
        assert isinstance(hot, DriverConnection)
        assert (await as_number.rows(hot, {"v": "42"}))[0].v == 42  # the pool serves on


async def test_sqlite_reads_on_sqlalchemy_without_the_write_lock(tmp_path: Path) -> None:
    eng = create_engine(f"sqlite+aiosqlite:///{tmp_path}/d.db")
    try:
        assert write_intent.get() is True  # the default (background work)
        async with hot_read(eng) as conn:
            assert not isinstance(conn, DriverConnection)
            assert write_intent.get() is False  # so its transaction begins DEFERRED
            assert (await conn.execute(select(func.abs(-3)))).scalar() == 3
        assert write_intent.get() is True
    finally:
        await eng.dispose()


async def test_a_request_whose_server_went_away_is_a_503(engine: AsyncEngine) -> None:
    """The connection dies under the statement: the app answers 503 database_unavailable, and
    the next request gets a new connection."""
    query = DriverQuery(select(T.c.n, func.pg_sleep(0).label("slept")).where(T.c.n == bindparam("n")))
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/n/{n}")
    async def read(n: int) -> dict[str, int]:
        async with hot_read(engine) as hot:
            assert isinstance(hot, DriverConnection)
            if n == 0:  # the server ends this backend before the statement
                async with engine.connect() as other:
                    await other.execute(select(func.pg_terminate_backend(hot.driver.get_server_pid())))
            rows = await query.rows(hot, {"n": max(n, 1)})
        return {"n": rows[0].n}

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        assert (await client.get("/n/2")).json() == {"n": 2}
        gone = await client.get("/n/0")
        assert gone.status_code == 503, gone.text
        assert gone.headers["content-type"].startswith("application/problem+json")
        assert gone.json()["code"] == "database_unavailable"
        assert (await client.get("/n/3")).json() == {"n": 3}


async def test_a_read_cancelled_mid_statement_leaves_no_broken_connection_behind(engine: AsyncEngine) -> None:
    """A read cancelled while its statement runs (a timeout above it): the connection is
    dropped, not handed to the next request halfway through a statement."""
    slow = DriverQuery(select(func.pg_sleep(bindparam("s", type_=Float)).label("slept"), literal(1).label("one")))
    started = asyncio.Event()
    seen: list[DriverConnection] = []

    async def read() -> None:
        async with hot_read(engine) as hot:
            assert isinstance(hot, DriverConnection)
            seen.append(hot)
            started.set()
            await slow.rows(hot, {"s": 5.0})

    task = asyncio.create_task(read())
    await started.wait()
    await asyncio.sleep(0.2)  # the statement is on the server
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert seen[0].driver.is_closed()
    for _ in range(3):  # every connection the pool hands out works
        async with hot_read(engine) as hot:
            assert isinstance(hot, DriverConnection)
            assert (await slow.rows(hot, {"s": 0.0}))[0].one == 1


async def test_a_hot_query_gives_the_same_rows_on_every_connection_it_is_given(either: AsyncEngine) -> None:
    """``HotQuery``: the driver's statement (arrays) on asyncpg, the Core statement (expanding
    ``IN``) on a SQLAlchemy connection or session; a column only the driver's adds is its own."""

    def build(arrays: bool) -> Select[Any]:
        stmt = BY_WORDS.where(among(T.c.word, "words", arrays=arrays))
        return stmt.add_columns(literal(1).label("driver")) if arrays else stmt

    query = HotQuery(build)
    params = {"words": ["e", "b", "c"], "limit": 2}
    expected = [(2, "b", dt.date(2026, 1, 2)), (3, "c", dt.date(2026, 1, 3))]
    async with hot_read(either) as hot:
        rows = await query.rows(hot, params)
    on_driver = isinstance(hot, DriverConnection)
    assert on_driver == (either.dialect.name == "postgresql")
    assert [tuple(r)[:3] for r in rows] == expected
    assert all(("driver" in r._fields) == on_driver for r in rows)
    async with either.connect() as conn:
        assert [tuple(r) for r in await query.rows(conn, params)] == expected
    async with AsyncSession(either) as session:
        assert [tuple(r) for r in await query.rows(session, params)] == expected
