"""Operational defaults every app shares: metrics, security headers, CORS closed unless configured."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from doorstep_gateway.config import GatewaySettings
from doorstep_gateway.main import create_app
from doorstep_shared.http.docs_pages import ASSETS_PATH

from ..support import Tokens, client_for, running


async def test_metrics_count_requests_by_route_template(gateway: httpx.AsyncClient, tokens: Tokens) -> None:
    await gateway.get("/api/v1/directory/communities", headers=tokens.headers())
    text = (await gateway.get("/metrics")).text
    assert (
        'doorstep_http_requests_total{method="GET",route="/api/v1/directory/communities",service="gateway",status="200"}'
        in text
    )


async def test_security_headers_and_no_store_on_api_responses(gateway: httpx.AsyncClient, tokens: Tokens) -> None:
    resp = await gateway.get("/api/v1/auth/me", headers=tokens.headers())
    assert resp.headers["x-content-type-options"] == "nosniff"
    assert resp.headers["x-frame-options"] == "DENY"
    assert resp.headers["referrer-policy"] == "no-referrer"
    assert resp.headers["cache-control"] == "no-store"


@pytest.mark.parametrize("codec", ["gzip", "br", "zstd"])
async def test_the_gateways_own_big_answers_are_compressed_in_the_accepted_codec(
    gateway: httpx.AsyncClient, codec: str
) -> None:
    plain = await gateway.get("/openapi.json", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers
    resp = await gateway.get("/openapi.json", headers={"Accept-Encoding": codec})
    assert resp.headers["content-encoding"] == codec
    assert resp.num_bytes_downloaded < len(plain.content) / 4
    assert resp.json() == plain.json()
    small = await gateway.get("/healthz", headers={"Accept-Encoding": codec})
    assert "content-encoding" not in small.headers  # under 1 KB: sent as it is


async def test_cors_is_closed_by_default(gateway: httpx.AsyncClient) -> None:
    resp = await gateway.options(
        "/api/v1/auth/me", headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"}
    )
    assert "access-control-allow-origin" not in resp.headers


async def test_cors_allows_only_configured_origins(tokens: Tokens, tmp_path: Path) -> None:
    settings = GatewaySettings(
        environment="test",
        database_url=f"sqlite+aiosqlite:///{tmp_path}/unused.db",
        log_json=False,
        cors_origins=["https://app.doorstep.example"],
    )
    async with running(create_app(settings, signing_key=tokens.key)) as app, client_for(app) as client:
        ok = await client.options(
            "/api/v1/auth/me",
            headers={"Origin": "https://app.doorstep.example", "Access-Control-Request-Method": "GET"},
        )
        assert ok.headers["access-control-allow-origin"] == "https://app.doorstep.example"
        other = await client.options(
            "/api/v1/auth/me", headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"}
        )
        assert "access-control-allow-origin" not in other.headers


async def test_docs_can_be_turned_off(tokens: Tokens, tmp_path: Path) -> None:
    settings = GatewaySettings(
        environment="test", database_url=f"sqlite+aiosqlite:///{tmp_path}/unused.db", log_json=False, docs_enabled=False
    )
    async with running(create_app(settings, signing_key=tokens.key)) as app, client_for(app) as client:
        assert (await client.get("/docs")).status_code == 404
        assert (await client.get("/openapi.json")).status_code == 404
        assert (await client.get(f"{ASSETS_PATH}/swagger-ui.css")).status_code == 404


async def test_forwarded_requests_are_counted_per_upstream_service(gateway: httpx.AsyncClient, tokens: Tokens) -> None:
    resp = await gateway.get("/api/v1/catalog/items/some-code?x=1", headers=tokens.headers())
    text = (await gateway.get("/metrics")).text
    label = f'doorstep_http_requests_total{{method="GET",route="/api/v1/catalog/*",service="gateway",status="{resp.status_code}"}}'
    assert label in text
    assert "some-code" not in text  # never the raw path
