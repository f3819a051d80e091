"""The shared Idempotency-Key middleware on a tiny app: replay, mismatch, release, expiry, races."""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request
from sqlalchemy import MetaData, select, text, update

from doorstep_shared.auth.tokens import Principal
from doorstep_shared.clock import utcnow
from doorstep_shared.db.engine import create_engine
from doorstep_shared.db.idempotency import IdempotencyMiddleware, fingerprint, idempotency_table, purge_expired
from doorstep_shared.db.session import make_sessionmaker
from doorstep_shared.http.errors import Unauthorized

from ...support import PG_URL

pytestmark = pytest.mark.dates

metadata = MetaData()
table = idempotency_table(metadata, "test_idempotency")


class FakeVerifier:
    async def verify(self, token: str) -> Principal:
        if token == "bad":
            raise Unauthorized("bad token")
        return Principal(subject=token, kind="user", name=token)


def build(maker: Any) -> tuple[FastAPI, list[int]]:
    runs: list[int] = []
    counter = itertools.count(1)
    app = FastAPI()
    app.state.sessionmaker = maker
    app.state.verifier = FakeVerifier()
    app.add_middleware(IdempotencyMiddleware, table=table, wait_seconds=5.0)

    @app.post("/things", status_code=201)
    async def make(request: Request) -> dict[str, Any]:
        body = await request.json()
        await asyncio.sleep(0.05)
        n = next(counter)
        runs.append(n)
        if body.get("fail"):
            raise RuntimeError("boom")
        return {"n": n, **body}

    return app, runs


@pytest.fixture
async def maker(db_backend: str, tmp_path: Path) -> AsyncIterator[Any]:
    schema = None
    if db_backend == "sqlite":
        engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'idem.db'}")
    else:
        schema = f"t_idem_{uuid.uuid4().hex[:8]}"
        setup = create_engine(PG_URL, null_pool=True)
        async with setup.begin() as conn:
            await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        await setup.dispose()
        engine = create_engine(PG_URL, schema=schema, pool_size=10)
    async with engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    try:
        yield make_sessionmaker(engine)
    finally:
        await engine.dispose()
        if schema:
            cleanup = create_engine(PG_URL, null_pool=True)
            async with cleanup.begin() as conn:
                await conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            await cleanup.dispose()


def client(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app, raise_app_exceptions=False), base_url="http://t")


def auth(who: str = "alice", key: str = "k1") -> dict[str, str]:
    return {"Authorization": f"Bearer {who}", "Idempotency-Key": key}


async def test_same_key_same_body_replays_and_different_body_is_422(maker: Any) -> None:
    app, runs = build(maker)
    async with client(app) as c:
        first = await c.post("/things", json={"a": 1}, headers=auth())
        again = await c.post("/things", json={"a": 1}, headers=auth())
        other = await c.post("/things", json={"a": 2}, headers=auth())
        elsewhere = await c.post("/things?x=1", json={"a": 1}, headers=auth())
        bob = await c.post("/things", json={"a": 1}, headers=auth("bob"))
        plain = await c.post("/things", json={"a": 1}, headers={"Authorization": "Bearer alice"})
    assert first.status_code == again.status_code == 201 and again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true" and "idempotent-replayed" not in first.headers
    assert other.status_code == 422 and other.json()["code"] == "idempotency_key_reused"
    assert elsewhere.status_code == 422
    assert bob.status_code == 201 and plain.status_code == 201
    assert runs == [1, 2, 3]


async def test_concurrent_duplicates_run_exactly_once(maker: Any) -> None:
    app, runs = build(maker)
    async with client(app) as c:
        responses = await asyncio.gather(
            *(c.post("/things", json={"a": 1}, headers=auth(key="race")) for _ in range(8))
        )
    assert [r.status_code for r in responses] == [201] * 8
    assert len(runs) == 1 and {r.json()["n"] for r in responses} == {1}


async def test_a_server_error_releases_the_key_and_the_retry_runs_again(maker: Any) -> None:
    app, runs = build(maker)
    async with client(app) as c:
        failed = await c.post("/things", json={"fail": True}, headers=auth(key="f"))
        retried = await c.post("/things", json={"fail": True}, headers=auth(key="f"))
        unauthenticated = await c.post("/things", json={"a": 1}, headers=auth("bad", key="g"))
    assert failed.status_code == retried.status_code == 500 and runs == [1, 2, 3]
    assert "idempotent-replayed" not in retried.headers
    assert unauthenticated.status_code == 201  # the tiny app has no auth; the key was not used
    async with maker() as session:
        assert (await session.execute(select(table.c.key))).scalars().all() == []


async def test_expired_keys_are_purged_and_may_be_reused(maker: Any) -> None:
    app, runs = build(maker)
    async with client(app) as c:
        await c.post("/things", json={"a": 1}, headers=auth(key="old"))
        async with maker() as session:
            past = utcnow() - dt.timedelta(hours=1)
            await session.execute(update(table).values(expires_at=past))
            await session.commit()
        reused = await c.post("/things", json={"a": 2}, headers=auth(key="old"))
    assert reused.status_code == 201 and "idempotent-replayed" not in reused.headers and runs == [1, 2]
    async with maker() as session:
        await session.execute(update(table).values(expires_at=past))
        assert await purge_expired(session, table) == 1
        await session.commit()


async def test_invalid_keys_are_refused_and_fingerprints_separate_parts() -> None:
    app = FastAPI()
    app.state.sessionmaker = None
    app.add_middleware(IdempotencyMiddleware, table=table)
    async with client(app) as c:
        resp = await c.post("/x", json={}, headers={"Idempotency-Key": "has space"})
    assert resp.status_code == 422 and resp.json()["code"] == "invalid_idempotency_key"
    assert fingerprint("POST", "/a", b"", b"bc") != fingerprint("POST", "/ab", b"", b"c")
