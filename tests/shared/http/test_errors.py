"""Database errors are classified by SQLSTATE: bad values are 422, lost connections 503; a body
that cannot be decoded is the documented 422 naming ``body``, never an undocumented 400."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI, HTTPException, UploadFile
from sqlalchemy import text

from doorstep_shared.db.engine import create_engine
from doorstep_shared.http.errors import PROBLEM_JSON, install_error_handlers

from ...support import PG_URL


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


def upload_app() -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)

    @app.post("/upload")
    async def upload(file: UploadFile) -> dict[str, str | None]:
        return {"name": file.filename}

    @app.post("/refuse")
    async def refuse() -> None:
        raise HTTPException(400, "refused on purpose")

    return app


async def client_post(app: FastAPI, path: str, content: bytes, content_type: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        return await client.post(path, content=content, headers={"content-type": content_type})


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        (b"--B\r\n0.08--B--\r\n", "multipart/form-data; boundary=B"),  # found by the fuzzer
        (b"--B\r\nno headers at all", "multipart/form-data; boundary=B"),
        (b"file=x", "multipart/form-data"),  # no boundary
    ],
)
async def test_broken_multipart_is_422_naming_body(content: bytes, content_type: str) -> None:
    resp = await client_post(upload_app(), "/upload", content, content_type)
    assert resp.status_code == 422, resp.text
    assert resp.headers["content-type"] == PROBLEM_JSON
    problem = resp.json()
    assert problem["code"] == "validation_failed"
    assert [e["field"] for e in problem["errors"]] == ["body"]


async def test_another_400_stays_a_400() -> None:
    resp = await client_post(upload_app(), "/refuse", b"", "text/plain")
    assert resp.status_code == 400
    assert resp.json()["code"] == "http_400"
