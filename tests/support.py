"""Test support shared by every test package: databases on both backends, tokens, clients."""

from __future__ import annotations

import asyncio
import os
import random
import socket
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import MetaData, text
from sqlalchemy.ext.asyncio import AsyncEngine

from doorstep_shared.auth.tokens import KeySet, Principal, SigningKey, TokenSigner
from doorstep_shared.db import create_engine, migrations

PG_URL = os.environ.get("DOORSTEP_TEST_DATABASE_URL", "")
REQUIRE_PG = os.environ.get("DOORSTEP_TEST_REQUIRE_POSTGRES", "") == "1"
BACKENDS = ["sqlite", "postgresql"] if PG_URL or REQUIRE_PG else ["sqlite"]

# A lane of a parallel run (tests/lanes.py, the date matrix) hands out ports from its own range
# ("20000-25999"), so that two lanes never pick the same free port between checking and binding it.
_PORTS = os.environ.get("DOORSTEP_TEST_PORTS", "")
_handed_out: set[int] = set()


def free_port() -> int:
    """A port nothing listens on now, never the same one twice in this process."""
    if not _PORTS:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            return int(s.getsockname()[1])
    low, high = (int(end) for end in _PORTS.split("-"))
    for _ in range(200):
        port = random.randint(low, high)
        if port in _handed_out:
            continue
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        _handed_out.add(port)
        return port
    raise RuntimeError(f"no free port in DOORSTEP_TEST_PORTS={_PORTS}")


ISSUER = "doorstep-gateway"
AUDIENCE = "doorstep"


@dataclass
class Database:
    backend: str
    url: str
    schema: str | None


async def create_database(package: str, backend: str, directory: Path) -> Database:
    """A fresh, migrated database for one service: a SQLite file, or a PostgreSQL schema."""
    if backend == "sqlite":
        url = f"sqlite+aiosqlite:///{directory / (package + '-' + uuid.uuid4().hex[:6] + '.db')}"
        db = Database(backend, url, None)
    else:
        if not PG_URL:
            raise RuntimeError("DOORSTEP_TEST_DATABASE_URL is required for PostgreSQL tests")
        db = Database(backend, PG_URL, f"t_{package.removeprefix('doorstep_')}_{uuid.uuid4().hex[:8]}")
    await asyncio.to_thread(migrations.upgrade, package, db.url, db.schema)
    return db


async def drop_database(db: Database) -> None:
    if db.backend == "postgresql" and db.schema:
        engine = create_engine(db.url, null_pool=True)
        try:
            async with engine.begin() as conn:
                await conn.execute(text(f'DROP SCHEMA IF EXISTS "{db.schema}" CASCADE'))
        finally:
            await engine.dispose()


@asynccontextmanager
async def engine_with(metadata: MetaData, backend: str, directory: Path) -> AsyncIterator[AsyncEngine]:
    """An engine on a fresh SQLite file or PostgreSQL schema holding ``metadata``'s tables."""
    schema = None
    if backend == "sqlite":
        engine = create_engine(f"sqlite+aiosqlite:///{directory / ('t-' + uuid.uuid4().hex[:6] + '.db')}")
    else:
        schema = f"t_{uuid.uuid4().hex[:10]}"
        setup = create_engine(PG_URL, null_pool=True)
        async with setup.begin() as conn:
            await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        await setup.dispose()
        engine = create_engine(PG_URL, schema=schema)
    async with engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    try:
        yield engine
    finally:
        await engine.dispose()
        if schema:
            await drop_database(Database(backend, PG_URL, schema))


async def truncate_all(engine: AsyncEngine, metadata: MetaData) -> None:
    """Empty every table of a service between tests (fast, and real concurrency keeps working)."""
    tables = list(reversed(metadata.sorted_tables))
    async with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            names = ", ".join(f'"{t.name}"' for t in tables)
            await conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for t in tables:
                await conn.execute(t.delete())


async def truncate_app(app: FastAPI, metadata: MetaData) -> None:
    """Empty an app's tables and forget its audit checkpoints (they vouch for what was emptied)."""
    await truncate_all(app.state.engine, metadata)
    forget_audit_checkpoints(app)


def forget_audit_checkpoints(app: FastAPI) -> None:
    trust = getattr(app.state, "audit_trust", None)
    if trust is not None:
        trust.anchor.path.unlink(missing_ok=True)
        trust.last_state = None


class Tokens:
    """Mints real RS256 tokens, signed with a test key the apps under test trust."""

    def __init__(self, key: SigningKey) -> None:
        self.key = key
        self.signer = TokenSigner(key, issuer=ISSUER, audience=AUDIENCE, access_ttl=600, refresh_ttl=3600)

    def key_set(self) -> KeySet:
        return KeySet(keys={self.key.kid: self.key.private_key.public_key()})

    def principal(
        self,
        role: str | None = "social_worker",
        *,
        community: str | None = "chaoyang",
        grid: str | None = None,
        county: str | None = None,
        subject: str | None = None,
        kind: str = "user",
        scopes: tuple[str, ...] = (),
        communities: tuple[str, ...] = (),
        name: str | None = None,
    ) -> Principal:
        subject = subject or f"{kind}-{uuid.uuid4().hex[:8]}"
        return Principal(
            subject=subject,
            kind="client" if kind == "client" else "user",
            name=name or subject,
            roles=frozenset({role}) if role and kind == "user" else frozenset(),
            scopes=frozenset(scopes),
            county=county if kind == "user" else None,
            community=community if kind == "user" else None,
            grid=grid,
            communities=frozenset(communities),
        )

    def token(self, role: str | None = "social_worker", **kwargs: Any) -> str:
        return self.signer.access_token(self.principal(role, **kwargs))[0]

    def headers(self, role: str | None = "social_worker", **kwargs: Any) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(role, **kwargs)}"}


@asynccontextmanager
async def running(app: FastAPI) -> AsyncIterator[FastAPI]:
    """Run an app's lifespan (httpx's ASGITransport does not)."""
    try:
        async with app.router.lifespan_context(app):
            yield app
    finally:
        forget_audit_checkpoints(app)  # a test database's anchor goes with it


def client_for(app: FastAPI, base_url: str = "http://testserver") -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=base_url)
