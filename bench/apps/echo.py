"""A tiny stand-alone service for the hop and read-path benchmarks, built like our services.

Same middleware (request id + Prometheus metrics), error handlers and token check
(``doorstep_shared.auth.security.current_principal`` with the shared, caching ``TokenVerifier``)
as every Doorstep service. Its routes live under ``/api/v1/catalog/bench/`` so that the
gateway forwards them when its catalog upstream points here.

* ``GET /api/v1/catalog/bench/small`` — small JSON, no storage, no token (the hop's floor).
* ``GET /api/v1/catalog/bench/repository/{id}`` — token + one row by primary key exactly as
  the services read now: ``DbSession`` (a read-only request's session reads on an AUTOCOMMIT
  connection and is closed, not committed) and the repository's hot-read pattern, a prepared
  Core ``select`` of the needed columns, row → response model.
* ``GET /api/v1/catalog/bench/orm/{id}`` — the same through ``DbSession`` with an ORM entity
  ``select`` built per request (the services' pattern before).
* ``GET /api/v1/catalog/bench/orm_tx/{id}`` — the ORM read in a transaction (``WritesOnRead``:
  BEGIN … COMMIT around it), as every GET ran before read-only sessions.
* ``GET /api/v1/catalog/bench/core_ac/{id}`` — the same Core read on an AUTOCOMMIT connection
  taken straight from the engine (no session): the floor of what SQLAlchemy can do.
* ``GET /api/v1/catalog/bench/hot/{id}`` — the services' hot-read path (the proxy's resident,
  lead, case and my-day reads): ``doorstep_shared.db.driver.hot_read`` and a ``HotQuery`` of the
  same Core ``select`` — on PostgreSQL asyncpg itself on a connection of the engine's pool, the
  statement compiled once; on SQLite the Core statement on a read connection.
* ``GET /api/v1/catalog/bench/raw/{id}`` — token + the same row through a raw asyncpg pool
  (PostgreSQL only): the baseline of the read-path benchmark.

Environment: ``BENCH_DATABASE_URL`` (SQLAlchemy async URL), ``BENCH_DATABASE_SCHEMA``
(PostgreSQL schema), ``BENCH_JWKS_FILE`` (public keys), ``BENCH_POOL_SIZE`` (default 10),
``BENCH_PRE_PING=1`` (turn ``pool_pre_ping`` back on, to measure what it cost).
Run: ``python -m uvicorn bench.apps.echo:create_app --factory --port N`` from the repo root.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated, Any

from fastapi import FastAPI, Request
from fastapi import Path as PathParam
from pydantic import BaseModel, ConfigDict
from sqlalchemy import Row, bindparam, text
from sqlalchemy import select as core_select
from sqlmodel import Field, SQLModel, select
from sqlmodel.ext.asyncio.session import AsyncSession

from doorstep_shared.app import DbSession, WritesOnRead
from doorstep_shared.auth.security import CurrentPrincipal
from doorstep_shared.auth.tokens import KeySet, TokenVerifier
from doorstep_shared.db import UTCDateTime, create_engine, is_sqlite, make_sessionmaker, new_registry
from doorstep_shared.db.driver import HotQuery, hot_read
from doorstep_shared.http.errors import NotFound, install_error_handlers
from doorstep_shared.http.observability import Metrics, RequestContextMiddleware

ISSUER = "doorstep-gateway"
AUDIENCE = "doorstep"
ROWS = 1000


class BenchBase(SQLModel, registry=new_registry()):
    pass


class BenchItem(BenchBase, table=True):
    __tablename__ = "bench_item"

    id: int = Field(primary_key=True)
    code: str = Field(max_length=32, unique=True, index=True)
    name: str = Field(max_length=64)
    community: str = Field(max_length=32, index=True)
    version: int = 1
    updated_at: dt.datetime = Field(sa_type=UTCDateTime)


class ItemRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    code: str
    name: str
    community: str
    version: int
    updated_at: dt.datetime


TABLE = BenchItem.__table__  # type: ignore[attr-defined]
# The repositories' hot-read pattern: built once, the columns the response needs, a bound id.
CORE_BY_ID = core_select(
    TABLE.c.id, TABLE.c.code, TABLE.c.name, TABLE.c.community, TABLE.c.version, TABLE.c.updated_at
).where(TABLE.c.id == bindparam("id"))
HOT_BY_ID = HotQuery(lambda _driver: CORE_BY_ID)  # one statement for both paths
RAW_BY_ID = "SELECT id, code, name, community, version, updated_at FROM bench_item WHERE id = $1"
ItemId = Annotated[int, PathParam(ge=1, le=2_000_000_000)]


async def item_by_id(session: AsyncSession, item_id: int) -> Row[Any] | None:
    """The repository function: a Core row (no ORM instance, identity map or unit of work)."""
    row: Row[Any] | None = (await session.execute(CORE_BY_ID, {"id": item_id})).first()
    return row


def asyncpg_dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


def create_app() -> FastAPI:
    url = os.environ.get("BENCH_DATABASE_URL", "sqlite+aiosqlite:///:memory:")
    schema = os.environ.get("BENCH_DATABASE_SCHEMA") or None
    pool_size = int(os.environ.get("BENCH_POOL_SIZE", "10"))
    jwks = os.environ.get("BENCH_JWKS_FILE")

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = create_engine(url, schema=schema, pool_size=pool_size)
        if os.environ.get("BENCH_PRE_PING") == "1":
            # Measurement only: what pool_pre_ping=True (the shared engine's setting before) cost.
            engine.sync_engine.pool._pre_ping = True
        app.state.engine = engine
        app.state.sessionmaker = make_sessionmaker(engine)
        app.state.verifier = TokenVerifier(KeySet(file=Path(jwks) if jwks else None), issuer=ISSUER, audience=AUDIENCE)
        app.state.pg = None
        if not is_sqlite(url):
            import asyncpg

            settings = {"search_path": schema} if schema else None
            app.state.pg = await asyncpg.create_pool(
                asyncpg_dsn(url), min_size=1, max_size=pool_size, server_settings=settings
            )
        try:
            yield
        finally:
            if app.state.pg is not None:
                await app.state.pg.close()
            await engine.dispose()

    app = FastAPI(title="bench echo", lifespan=lifespan, docs_url=None, redoc_url=None)
    install_error_handlers(app)
    app.add_middleware(RequestContextMiddleware, metrics=Metrics("bench"))

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/api/v1/catalog/bench/small")
    async def small() -> dict[str, Any]:
        return {"status": "ok", "service": "bench", "items": [1, 2, 3]}

    @app.get("/api/v1/catalog/bench/repository/{item_id}", response_model=ItemRead)
    async def repository_read(item_id: ItemId, session: DbSession, _: CurrentPrincipal) -> ItemRead:
        row = await item_by_id(session, item_id)
        if row is None:
            raise NotFound("No such item.")
        return ItemRead.model_validate(row)

    @app.get("/api/v1/catalog/bench/orm/{item_id}", response_model=ItemRead)
    async def orm_read(item_id: ItemId, session: DbSession, _: CurrentPrincipal) -> ItemRead:
        item = (await session.exec(select(BenchItem).where(BenchItem.id == item_id))).first()
        if item is None:
            raise NotFound("No such item.")
        return ItemRead.model_validate(item)

    @app.get("/api/v1/catalog/bench/orm_tx/{item_id}", response_model=ItemRead, dependencies=[WritesOnRead])
    async def orm_transaction_read(item_id: ItemId, session: DbSession, _: CurrentPrincipal) -> ItemRead:
        return await orm_read(item_id, session, _)

    @app.get("/api/v1/catalog/bench/core_ac/{item_id}", response_model=ItemRead)
    async def core_autocommit_read(item_id: ItemId, request: Request, _: CurrentPrincipal) -> ItemRead:
        # A single statement needs no BEGIN/COMMIT round trips around it.
        async with request.app.state.engine.connect() as conn:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            row = (await conn.execute(CORE_BY_ID, {"id": item_id})).first()
        if row is None:
            raise NotFound("No such item.")
        return ItemRead.model_validate(row._mapping)

    @app.get("/api/v1/catalog/bench/hot/{item_id}", response_model=ItemRead)
    async def hot_path_read(item_id: ItemId, request: Request, _: CurrentPrincipal) -> ItemRead:
        async with hot_read(request.app.state.engine) as conn:
            rows = await HOT_BY_ID.rows(conn, {"id": item_id})
        if not rows:
            raise NotFound("No such item.")
        return ItemRead.model_validate(rows[0]._asdict())

    @app.get("/api/v1/catalog/bench/raw/{item_id}", response_model=ItemRead)
    async def raw_read(item_id: ItemId, request: Request, _: CurrentPrincipal) -> ItemRead:
        pool = request.app.state.pg
        if pool is None:
            raise NotFound("The raw asyncpg path needs PostgreSQL.")
        async with pool.acquire() as conn:
            row = await conn.fetchrow(RAW_BY_ID, item_id)
        if row is None:
            raise NotFound("No such item.")
        return ItemRead.model_validate(dict(row))

    return app


# --- set-up and tear-down, run by bench/run.py ----------------------------------------------


async def _prepare(url: str, schema: str | None, rows: int) -> None:
    engine = create_engine(url, null_pool=True)
    now = dt.datetime.now(dt.UTC)
    try:
        async with engine.begin() as conn:
            if schema:
                await conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
                await conn.execute(text(f'SET search_path TO "{schema}"'))
            await conn.run_sync(BenchBase.metadata.drop_all)
            await conn.run_sync(BenchBase.metadata.create_all)
            await conn.execute(
                TABLE.insert(),
                [
                    {
                        "id": i,
                        "code": f"item-{i:05d}",
                        "name": f"服务事项 {i}",
                        "community": ("chaoyang", "zhenhuai")[i % 2],
                        "version": 1,
                        "updated_at": now,
                    }
                    for i in range(1, rows + 1)
                ],
            )
    finally:
        await engine.dispose()


async def _drop(url: str, schema: str | None) -> None:
    engine = create_engine(url, null_pool=True)
    try:
        async with engine.begin() as conn:
            if schema:
                await conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            else:
                await conn.run_sync(BenchBase.metadata.drop_all)
    finally:
        await engine.dispose()


def prepare(url: str, schema: str | None = None, rows: int = ROWS) -> None:
    asyncio.run(_prepare(url, schema, rows))


def drop(url: str, schema: str | None = None) -> None:
    asyncio.run(_drop(url, schema))
