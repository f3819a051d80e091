"""The baseline of the resident-page benchmark: the proxy's resident reads written by hand on raw
asyncpg and orjson, with the same token check.

``GET /api/v1/proxy/residents?limit=N`` (the default list: active residents of the caller's
communities in address order, one page and its signed cursor) and ``GET /api/v1/proxy/residents/{id}``
(one resident and its ETag) run the SQL the proxy sends for them on PostgreSQL — one statement,
each resident's benefits gathered in its row (``ledger.read_rows``) — mask each row with the proxy's own rule
(``ledger.service.resident_item``: the same decryption, masks and groups) and write the dicts with
``orjson`` (asyncpg's own UUID type through ``default=str``). No SQLAlchemy, no session, no response model, no middleware but the request context
(as ``bench/apps/echo.py``). Only the default list is implemented: the benchmark asks for nothing else.

Environment: ``BENCH_DATABASE_URL`` (a ``postgresql+asyncpg://`` URL), ``BENCH_DATABASE_SCHEMA``,
``BENCH_JWKS_FILE`` (public keys), ``BENCH_POOL_SIZE`` (default 10) and the proxy's own
``DOORSTEP_PROXY_*`` settings (its ``var_dir`` holds the development personal-data keys).
Run: ``python -m uvicorn bench.apps.resident_page_raw:create_app --factory --port N``.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections import namedtuple
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated

import asyncpg
import orjson
from fastapi import FastAPI, Query, Request, Response

from doorstep_proxy.config import ProxySettings
from doorstep_proxy.ledger.reads import resident_item
from doorstep_proxy.ledger.repository import READ_COLUMNS
from doorstep_proxy.ledger.service import resident_cursor_key, resident_etag
from doorstep_shared.auth.security import CurrentPrincipal
from doorstep_shared.auth.tokens import KeySet, TokenVerifier
from doorstep_shared.clock import local_today
from doorstep_shared.http.errors import NotFound, install_error_handlers
from doorstep_shared.http.observability import Metrics, RequestContextMiddleware
from doorstep_shared.http.pagination import encode_cursor

ISSUER = "doorstep-gateway"
AUDIENCE = "doorstep"
NAMES = [c.name for c in READ_COLUMNS]
ResidentRow = namedtuple("ResidentRow", [*NAMES, "benefits"])  # type: ignore[misc]  # attribute access, as a Core row
BENEFITS = "ARRAY(SELECT (b.item_code, b.since) FROM resident_benefit b WHERE b.resident_id = resident.id ORDER BY b.item_code)"
SELECT = f"SELECT {', '.join(NAMES)}, {BENEFITS} FROM resident"
ORDER = "ORDER BY compound_code, building, unit, room, name, id"
PAGE = f"{SELECT} WHERE community = ANY($1::text[]) AND status = 'active' {ORDER} LIMIT $2"
ONE = f"{SELECT} WHERE id = $1 AND community = ANY($2::text[])"


def create_app() -> FastAPI:
    url = os.environ["BENCH_DATABASE_URL"].replace("postgresql+asyncpg://", "postgresql://", 1)
    schema = os.environ.get("BENCH_DATABASE_SCHEMA") or None
    pool_size = int(os.environ.get("BENCH_POOL_SIZE", "10"))
    jwks = os.environ.get("BENCH_JWKS_FILE")

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.verifier = TokenVerifier(KeySet(file=Path(jwks) if jwks else None), issuer=ISSUER, audience=AUDIENCE)
        app.state.cipher = ProxySettings().pii_cipher()
        settings = {"search_path": schema} if schema else None
        app.state.pg = await asyncpg.create_pool(url, min_size=1, max_size=pool_size, server_settings=settings)
        try:
            yield
        finally:
            await app.state.pg.close()

    app = FastAPI(title="bench resident page, raw asyncpg", lifespan=lifespan, docs_url=None, redoc_url=None)
    install_error_handlers(app)
    app.add_middleware(RequestContextMiddleware, metrics=Metrics("bench"))

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/api/v1/proxy/residents")
    async def residents(
        request: Request, principal: CurrentPrincipal, limit: Annotated[int, Query(ge=1, le=200)] = 50
    ) -> Response:
        communities = sorted(principal.visible_communities or ())
        async with request.app.state.pg.acquire() as conn:
            rows = [ResidentRow(*rec) for rec in await conn.fetch(PAGE, communities, limit + 1)]
        page = rows[:limit]
        today, cipher = local_today(), request.app.state.cipher
        items = [resident_item(r, r.benefits, cipher, today, principal) for r in page]
        nxt = encode_cursor(resident_cursor_key(page[-1])) if len(rows) > limit else None
        return Response(orjson.dumps({"items": items, "next_cursor": nxt}, default=str), media_type="application/json")

    @app.get("/api/v1/proxy/residents/{resident_id}")
    async def resident(resident_id: uuid.UUID, request: Request, principal: CurrentPrincipal) -> Response:
        communities = sorted(principal.visible_communities or ())
        async with request.app.state.pg.acquire() as conn:
            rec = await conn.fetchrow(ONE, resident_id, communities)
        if rec is None:
            raise NotFound("No such resident.")
        row = ResidentRow(*rec)
        item = resident_item(row, row.benefits, request.app.state.cipher, local_today(), principal)
        headers = {"ETag": resident_etag(row), "Cache-Control": "private, no-cache"}
        return Response(orjson.dumps(item, default=str), media_type="application/json", headers=headers)

    return app
