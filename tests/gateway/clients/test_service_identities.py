"""The services' own identities are not clients: nothing under /api/v1/clients reaches them."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
from sqlalchemy import text

from doorstep_gateway.clients.models import ApiClient
from doorstep_gateway.config import GatewaySettings
from doorstep_gateway.main import create_app
from doorstep_gateway.passwords import hash_password
from doorstep_shared.db import migrations

from ...support import Tokens, client_for, running

PATHS = ("", "/rotate-secret", "/revoke")


async def _plant_old_service_client(app_state: object) -> None:
    """The row a previous release's start-up made (or an old replica re-makes mid-upgrade)."""
    async with app_state.sessionmaker() as session:  # type: ignore[attr-defined]
        session.add(
            ApiClient(client_id="svc.proxy", name="old", secret_hash=await hash_password("s"), scopes=["catalog:read"])
        )
        await session.commit()


async def test_a_service_identity_left_in_the_registry_answers_404_to_every_call(
    gateway: httpx.AsyncClient, tokens: Tokens
) -> None:
    await _plant_old_service_client(gateway._transport.app.state)  # type: ignore[attr-defined]
    admin = tokens.headers("security_officer", community=None, subject="county.security")
    listed = await gateway.get("/api/v1/clients", headers=admin)
    assert listed.status_code == 200
    assert [c["client_id"] for c in listed.json() if c["client_id"].startswith("svc.")] == []
    assert (await gateway.get("/api/v1/clients/svc.proxy", headers=admin)).status_code == 404
    for _ in range(3):  # the fuzzer's burst: every one a 404, nothing changes
        for action in PATHS[1:]:
            r = await gateway.post(f"/api/v1/clients/svc.proxy{action}", headers=admin, json={"grace_seconds": 0})
            assert r.status_code == 404, r.text
            assert r.headers["content-type"].startswith("application/problem+json")
    token = await gateway.post(
        "/api/v1/auth/token", data={"grant_type": "client_credentials", "client_id": "svc.proxy", "client_secret": "s"}
    )
    assert token.status_code == 401


async def test_the_migration_deletes_the_service_clients_of_the_previous_release(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/gw.db"
    await asyncio.to_thread(migrations.upgrade, "doorstep_gateway", url, None, "8b2ced01b836")
    from doorstep_shared.db.engine import create_engine

    engine = create_engine(url)
    async with engine.begin() as conn:
        for cid in ("svc.proxy", "demo.platform"):
            await conn.execute(
                text(
                    "INSERT INTO api_client (client_id, name, secret_hash, scopes, communities, ip_allowlist,"
                    " quota_per_minute, contact, active, created_by, created_at)"
                    " VALUES (:c, 'x', 'h', '[]', '[]', '[]', 0, '', 1, 'system', '2026-01-01')"
                ),
                {"c": cid},
            )
    await asyncio.to_thread(migrations.upgrade, "doorstep_gateway", url)
    async with engine.begin() as conn:
        left = (await conn.execute(text("SELECT client_id FROM api_client"))).scalars().all()
    await engine.dispose()
    assert left == ["demo.platform"]


async def test_the_gateway_starts_without_service_client_settings(tokens: Tokens, tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/gw2.db"
    await asyncio.to_thread(migrations.upgrade, "doorstep_gateway", url)
    settings = GatewaySettings(environment="test", database_url=url, log_json=False)
    assert not hasattr(settings, "service_client_secrets")
    async with running(create_app(settings, signing_key=tokens.key)) as app, client_for(app) as client:
        assert (await client.get("/readyz")).status_code == 200
