"""On SQLite, reads do not queue behind a long writer; writers still serialise."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx
from fastapi import Depends, FastAPI
from sqlalchemy import text

from doorstep_shared.db.engine import create_engine, mark_write_intent
from doorstep_shared.db.session import (
    DbSession,
    ReadConnection,
    make_sessionmaker,
    read_only_engine,
    writes_on_read,
)
from doorstep_shared.http.errors import install_error_handlers


async def test_a_get_reads_while_a_writer_holds_the_lock_and_writers_queue(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path}/lock.db")
    async with engine.begin() as conn:
        await conn.execute(text("CREATE TABLE t (n INTEGER)"))
        await conn.execute(text("INSERT INTO t VALUES (1)"))
    app = FastAPI()
    install_error_handlers(app)
    app.state.sessionmaker = make_sessionmaker(engine)
    app.state.read_engine = read_only_engine(engine)

    @app.get("/read")
    async def read(session: DbSession) -> int:
        return int((await session.execute(text("SELECT COUNT(*) FROM t"))).scalar_one())

    @app.post("/hot-read")  # a bare read connection never takes the write lock, whatever the method
    async def hot_read(conn: ReadConnection) -> int:
        return int((await conn.execute(text("SELECT COUNT(*) FROM t"))).scalar_one())

    @app.get("/read-and-write", dependencies=[Depends(writes_on_read)])
    async def read_and_write(session: DbSession) -> int:
        await session.execute(text("INSERT INTO t VALUES (3)"))
        return int((await session.execute(text("SELECT COUNT(*) FROM t"))).scalar_one())

    @app.post("/write")
    async def write(session: DbSession) -> int:
        await session.execute(text("INSERT INTO t VALUES (2)"))
        return 1

    mark_write_intent(True)
    async with engine.connect() as writer:
        await writer.execute(text("INSERT INTO t VALUES (9)"))  # holds the write lock (BEGIN IMMEDIATE)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
            started = time.monotonic()
            resp = await client.get("/read")
            assert resp.status_code == 200
            assert resp.json() == 1  # the writer's row is not committed yet
            hot = await client.post("/hot-read")
            assert hot.status_code == 200 and hot.json() == 1
            assert time.monotonic() - started < 2
            pending_write = asyncio.create_task(client.post("/write"))
            pending_rw = asyncio.create_task(client.get("/read-and-write"))
            await asyncio.sleep(0.3)
            assert not pending_write.done()  # writers wait for the lock instead of failing
            assert not pending_rw.done()
            await writer.commit()
            assert (await pending_write).status_code == 200
            assert (await pending_rw).status_code == 200
    await engine.dispose()


async def test_waiting_writers_take_the_lock_in_the_order_they_came(tmp_path: Path) -> None:
    """Five writers arrive one after another while a sixth holds the lock: they write in the
    order they came (SQLite's busy handler alone lets a later one in first, after growing sleeps)."""
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path}/fifo.db")
    async with engine.begin() as conn:
        await conn.execute(text("CREATE TABLE t (n INTEGER)"))
    maker = make_sessionmaker(engine)
    mark_write_intent(True)

    async def write(n: int) -> None:
        async with maker() as session:
            await session.execute(text("INSERT INTO t VALUES (:n)"), {"n": n})
            await asyncio.sleep(0.01)  # a little work inside the transaction
            await session.commit()

    async with engine.connect() as holder:
        await holder.execute(text("INSERT INTO t VALUES (0)"))
        writers = []
        for n in range(1, 6):
            writers.append(asyncio.create_task(write(n)))
            await asyncio.sleep(0.03)
        await asyncio.sleep(0.2)
        assert not any(w.done() for w in writers)
        await holder.commit()
    await asyncio.gather(*writers)
    async with engine.connect() as conn:
        order = [r[0] for r in (await conn.execute(text("SELECT n FROM t ORDER BY rowid"))).all()]
    assert order == [0, 1, 2, 3, 4, 5]
    await engine.dispose()
