"""Database errors are classified by SQLSTATE: bad values are 422, lost connections 503."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text

from doorstep_shared.db import create_engine
from doorstep_shared.errors import install_error_handlers

from ..support import PG_URL


def app_running(url: str, sql: str, params: dict[str, str]) -> FastAPI:
    engine = create_engine(url, null_pool=True)
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/run")
    async def run() -> None:
        async with engine.begin() as conn:
            await conn.execute(text(sql), params)

    return app


async def client_get(app: FastAPI) -> httpx.Response:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        return await client.get("/run")


async def test_a_value_postgresql_cannot_store_is_422_not_503(db_backend: str) -> None:
    if db_backend != "postgresql":
        pytest.skip("SQLite stores NUL characters")
    resp = await client_get(app_running(PG_URL, "SELECT CAST(:v AS text)", {"v": "a\x00b"}))
    assert resp.status_code == 422
    assert resp.json()["code"] == "invalid_data"


async def test_an_unreachable_database_is_503_with_retry_after() -> None:
    resp = await client_get(app_running("postgresql+asyncpg://nobody@127.0.0.1:9/none", "SELECT 1", {}))
    assert resp.status_code == 503
    assert resp.headers["retry-after"]
    assert resp.json()["code"] == "database_unavailable"
