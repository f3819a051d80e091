from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import pytest

from doorstep_gateway.forwarding.pool import Breaker

from ...support import Tokens


async def test_a_down_service_answers_503_problem_promptly(gateway: httpx.AsyncClient, tokens: Tokens) -> None:
    started = time.monotonic()
    resp = await gateway.get("/api/v1/catalog/categories", headers=tokens.headers())
    assert resp.status_code == 503
    assert resp.headers["content-type"] == "application/problem+json"
    assert resp.json()["code"] == "upstream_unavailable"
    assert time.monotonic() - started < 3
    assert resp.headers["x-request-id"]
    # The gateway's own problems speak the caller's language, naming the service in both.
    assert resp.headers["content-language"] == "zh-CN"
    assert resp.json()["title"] == "上游服务不可用" and resp.json()["detail"].startswith("catalog 服务")
    en = await gateway.get("/api/v1/catalog/categories", headers={**tokens.headers(), "Accept-Language": "en"})
    assert en.headers["content-language"] == "en"
    assert en.json()["detail"].startswith("The catalog service")


async def test_the_gateway_rejects_a_missing_or_bad_token_before_forwarding(
    gateway: httpx.AsyncClient,
) -> None:
    missing = await gateway.get("/api/v1/proxy/compounds")
    assert missing.status_code == 401 and missing.json()["code"] == "missing_token"
    bad = await gateway.get("/api/v1/proxy/compounds", headers={"Authorization": "Bearer not.a.jwt"})
    assert bad.status_code == 401 and bad.json()["code"] == "invalid_token"


async def test_a_too_large_body_is_413(gateway: httpx.AsyncClient, tokens: Tokens) -> None:
    resp = await gateway.post("/api/v1/proxy/demands", headers=tokens.headers(), content=b"x" * (1024 * 1024 + 1))
    assert resp.status_code == 413
    assert resp.json()["code"] == "payload_too_large"


async def test_request_id_is_echoed_when_given(gateway: httpx.AsyncClient) -> None:
    resp = await gateway.get("/healthz", headers={"X-Request-ID": "abc-123"})
    assert resp.headers["x-request-id"] == "abc-123"


async def test_unknown_paths_are_problem_json_404(gateway: httpx.AsyncClient) -> None:
    resp = await gateway.get("/api/v1/nothing/here")
    assert resp.status_code == 404
    assert resp.headers["content-type"] == "application/problem+json"


async def test_readiness_follows_the_migration_revision(gateway: httpx.AsyncClient) -> None:
    from sqlalchemy import text

    engine = gateway._transport.app.state.engine  # type: ignore[attr-defined]
    assert (await gateway.get("/readyz")).status_code == 200
    async with engine.begin() as conn:
        head = (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalar_one()
        await conn.execute(text("UPDATE alembic_version SET version_num = 'newer0release'"))
    try:
        # A newer release migrated the database: this (older) pod keeps serving.
        assert (await gateway.get("/readyz")).status_code == 200
        async with engine.begin() as conn:
            await conn.execute(text("DELETE FROM alembic_version"))
        not_ready = await gateway.get("/readyz")
        assert not_ready.status_code == 503
        assert not_ready.json()["code"] == "not_ready"
    finally:
        async with engine.begin() as conn:
            await conn.execute(text("DELETE FROM alembic_version"))
            await conn.execute(text("INSERT INTO alembic_version (version_num) VALUES (:v)"), {"v": head})


async def test_only_the_public_sheet_is_forwarded_without_a_token(gateway: httpx.AsyncClient) -> None:
    # The catalog is down in this fixture: 503 means the gateway forwarded the request.
    sheet = await gateway.get("/api/v1/catalog/items/elderly-allowance/sheet", params={"print": "large"})
    assert sheet.status_code == 503 and sheet.json()["code"] == "upstream_unavailable"
    for method, path in [
        ("GET", "/api/v1/catalog/items/elderly-allowance"),
        ("GET", "/api/v1/catalog/items/elderly-allowance/sheet/x"),
        ("GET", "/api/v1/catalog/items/a/b/sheet"),
        ("POST", "/api/v1/catalog/items/elderly-allowance/sheet"),
        ("GET", "/api/v1/proxy/items/elderly-allowance/sheet"),
    ]:
        resp = await gateway.request(method, path)
        assert resp.status_code == 401 and resp.json()["code"] == "missing_token", (method, path)
    bad = await gateway.get("/api/v1/catalog/items/dibao/sheet", headers={"Authorization": "Bearer not.a.jwt"})
    assert bad.status_code == 401 and bad.json()["code"] == "invalid_token"


async def test_a_service_that_dies_between_its_headers_and_its_body_is_a_502_problem(
    gateway: httpx.AsyncClient, gateway_app: Any, tokens: Tokens, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A service killed mid-answer (tests/e2e/test_faults.py kills one under load): its headers
    came, its body did not. Nothing of the answer had reached the caller, so the gateway says
    502 ``upstream_error``; it had let the request end with no answer, which the server turned
    into a bare 500."""

    async def headers_then_gone(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n[1, ")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(headers_then_gone, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    upstreams = gateway_app.state.upstreams
    monkeypatch.setitem(upstreams.bases, "catalog", f"http://127.0.0.1:{port}")
    monkeypatch.setitem(upstreams.breakers, "catalog", Breaker())
    try:
        resp = await gateway.get("/api/v1/catalog/categories", headers={**tokens.headers(), "Accept-Language": "en"})
    finally:
        server.close()
        await server.wait_closed()
    assert resp.status_code == 502, resp.text
    assert resp.headers["content-type"] == "application/problem+json"
    assert resp.json()["code"] == "upstream_error"
    assert resp.json()["detail"] == "The catalog service failed to answer."
