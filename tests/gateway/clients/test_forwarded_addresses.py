"""A machine client's IP allow-list holds against a client that names its own address in
X-Forwarded-For (issue 17, part 3): only the proxies in DOORSTEP_GATEWAY_FORWARDED_ALLOW_IPS
are believed, and by default none is."""

from __future__ import annotations

import io
from types import SimpleNamespace

import httpx
import pytest
from fastapi import FastAPI

from doorstep_gateway.main import create_app
from doorstep_tools import launcher

from ...support import Tokens, running

ALLOWED = "203.0.113.7"  # the platform's registered address
LOCAL = ("127.0.0.1", 50000)  # where clients reach the gateway in the default setup


async def allow_listed_client(gateway: httpx.AsyncClient, tokens: Tokens) -> tuple[str, str]:
    admin = tokens.headers("security_officer", community=None, subject="county.security")
    resp = await gateway.post(
        "/api/v1/clients",
        headers=admin,
        json={"name": "Platform", "scopes": ["cases:read"], "communities": ["chaoyang"], "ip_allowlist": [ALLOWED]},
    )
    assert resp.status_code == 201, resp.text
    return resp.json()["client_id"], resp.json()["client_secret"]


async def token_from(app: FastAPI, client_id: str, secret: str, peer: tuple[str, int], **headers: str) -> int:
    transport = httpx.ASGITransport(app=app, client=peer)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        resp = await client.post(
            "/api/v1/auth/token",
            data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret},
            headers=headers,
        )
    return resp.status_code


async def test_a_client_naming_an_allowed_address_itself_is_refused(
    gateway: httpx.AsyncClient, gateway_app: FastAPI, tokens: Tokens
) -> None:
    client_id, secret = await allow_listed_client(gateway, tokens)
    assert await token_from(gateway_app, client_id, secret, LOCAL, **{"X-Forwarded-For": ALLOWED}) == 401
    assert await token_from(gateway_app, client_id, secret, (ALLOWED, 50000)) == 200


async def test_a_configured_proxy_is_believed_and_nobody_else(
    gateway: httpx.AsyncClient, gateway_app: FastAPI, tokens: Tokens
) -> None:
    client_id, secret = await allow_listed_client(gateway, tokens)
    settings = gateway_app.state.settings.model_copy(update={"forwarded_allow_ips": "10.1.0.0/16"})
    async with running(create_app(settings, signing_key=tokens.key)) as behind_ingress:
        ingress = ("10.1.2.3", 443)
        assert await token_from(behind_ingress, client_id, secret, ingress, **{"X-Forwarded-For": ALLOWED}) == 200
        assert (
            await token_from(behind_ingress, client_id, secret, ingress, **{"X-Forwarded-For": "198.51.100.1"}) == 401
        )
        assert await token_from(behind_ingress, client_id, secret, LOCAL, **{"X-Forwarded-For": ALLOWED}) == 401


@pytest.mark.parametrize("app", ["gateway", "catalog", "proxy", "stations"])
def test_make_run_starts_uvicorn_trusting_no_proxy_headers(app: str, monkeypatch: pytest.MonkeyPatch) -> None:
    started: list[list[str]] = []

    def popen(cmd: list[str], env: dict[str, str], **_: object) -> SimpleNamespace:
        started.append(cmd)
        return SimpleNamespace(stdout=io.BytesIO())

    monkeypatch.setattr(launcher.subprocess, "Popen", popen)
    launcher.start(app, {})
    assert "--no-proxy-headers" in started[0]
    assert "--forwarded-allow-ips" not in started[0]
