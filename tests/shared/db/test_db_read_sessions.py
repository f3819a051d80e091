"""Read-only request sessions: a GET holds no transaction on PostgreSQL (its SELECTs run on an
AUTOCOMMIT connection and the session is closed, not committed); a GET that declares it writes,
and every other method, still runs in one transaction that commits; a pooled connection the
server closed is replaced at checkout without pool_pre_ping's round trips."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import Depends, FastAPI
from sqlalchemy import Column, Integer, MetaData, Table, func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel.ext.asyncio.session import AsyncSession

from doorstep_shared.db.engine import create_engine
from doorstep_shared.db.session import DbSession, make_sessionmaker, writes_on_read
from doorstep_shared.http.errors import install_error_handlers

from ...support import PG_URL

METADATA = MetaData()
T = Table("read_session_t", METADATA, Column("n", Integer, nullable=False))
# now() is the start of the transaction: two statements in one transaction see the same value,
# two statements on an AUTOCOMMIT connection (each its own transaction) do not.
NOW = select(func.now())


def only_postgresql(db_backend: str) -> None:
    if db_backend != "postgresql":
        pytest.skip("PostgreSQL only: SQLite reads in a deferred transaction")


@pytest.fixture
async def engine(db_backend: str, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    if db_backend == "sqlite":
        eng = create_engine(f"sqlite+aiosqlite:///{tmp_path}/read.db")
        async with eng.begin() as conn:
            await conn.run_sync(METADATA.create_all)
        yield eng
        await eng.dispose()
        return
    schema = f"t_read_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_URL, null_pool=True)
    async with admin.begin() as conn:
        await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    eng = create_engine(PG_URL, schema=schema, pool_size=1)
    async with eng.begin() as conn:
        await conn.run_sync(METADATA.create_all)
    try:
        yield eng
    finally:
        await eng.dispose()
        async with admin.begin() as conn:
            await conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        await admin.dispose()


def app_for(engine: AsyncEngine) -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)
    app.state.sessionmaker = make_sessionmaker(engine)

    @app.get("/in-transaction")
    async def in_transaction(session: DbSession) -> bool:
        return await same_transaction(session)

    @app.get("/declared-write", dependencies=[Depends(writes_on_read)])
    async def declared_write(session: DbSession) -> int:
        await session.execute(T.insert().values(n=1))
        return int((await session.execute(select(func.count()).select_from(T))).scalar_one())

    @app.get("/declared-write-then-fail", dependencies=[Depends(writes_on_read)])
    async def declared_write_then_fail(session: DbSession) -> int:
        await session.execute(T.insert().values(n=2))
        raise RuntimeError("after the write")

    @app.get("/undeclared-write")
    async def undeclared_write(session: DbSession) -> list[int]:
        before = int((await session.execute(select(func.count()).select_from(T))).scalar_one())
        await session.execute(T.insert().values(n=3))
        # read-your-writes: the read after the write runs in the write's transaction
        return [before, int((await session.execute(select(func.count()).select_from(T))).scalar_one())]

    @app.post("/write")
    async def write(session: DbSession) -> bool:
        await session.execute(T.insert().values(n=4))
        return await same_transaction(session)

    @app.get("/backend-pid")
    async def backend_pid(session: DbSession) -> int:
        return int((await session.execute(select(func.pg_backend_pid()))).scalar_one())

    return app


async def same_transaction(session: AsyncSession) -> bool:
    first = (await session.execute(NOW)).scalar_one()
    await asyncio.sleep(0.02)
    return bool(first == (await session.execute(NOW)).scalar_one())


def client(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app, raise_app_exceptions=False), base_url="http://t")


async def count(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(T))).scalar_one())


async def test_a_get_that_declares_its_write_commits_it_or_rolls_it_back(engine: AsyncEngine) -> None:
    async with client(app_for(engine)) as c:
        resp = await c.get("/declared-write")
        assert resp.status_code == 200
        assert resp.json() == 1  # the read after the write saw it
        assert (await c.get("/declared-write-then-fail")).status_code == 500
    assert await count(engine) == 1  # committed once, the failed request's row rolled back


async def test_a_get_holds_no_transaction_but_a_post_does(engine: AsyncEngine, db_backend: str) -> None:
    only_postgresql(db_backend)
    async with client(app_for(engine)) as c:
        assert (await c.get("/in-transaction")).json() is False
        assert (await c.post("/write")).json() is True
    assert await count(engine) == 1


async def test_a_get_that_writes_without_declaring_it_is_warned_and_still_atomic(
    engine: AsyncEngine, db_backend: str
) -> None:
    only_postgresql(db_backend)
    async with client(app_for(engine)) as c:
        with pytest.warns(RuntimeWarning, match="WritesOnRead"):
            resp = await c.get("/undeclared-write")
    assert resp.status_code == 200
    assert resp.json() == [0, 1]
    assert await count(engine) == 1


async def test_a_pooled_connection_the_server_closed_is_replaced_at_checkout(
    engine: AsyncEngine, db_backend: str
) -> None:
    only_postgresql(db_backend)
    async with client(app_for(engine)) as c:
        first = (await c.get("/backend-pid")).json()
        admin = create_engine(PG_URL, null_pool=True)
        try:
            async with admin.connect() as conn:
                await conn.execute(select(func.pg_terminate_backend(first)))
        finally:
            await admin.dispose()
        await asyncio.sleep(0.2)  # the client sees the server close the socket
        resp = await c.get("/backend-pid")
        assert resp.status_code == 200, resp.text
        assert resp.json() != first
