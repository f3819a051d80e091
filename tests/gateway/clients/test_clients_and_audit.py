from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text

from ...audit_attacks import ATTACKS
from ...support import Tokens


async def client_token(gateway: httpx.AsyncClient, client_id: str, secret: str, **extra: str) -> httpx.Response:
    return await gateway.post(
        "/api/v1/auth/token",
        data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret, **extra},
    )


async def test_the_security_officer_registers_a_client_whose_secret_is_shown_once(
    gateway: httpx.AsyncClient, tokens: Tokens
) -> None:
    admin = tokens.headers("security_officer", community=None, subject="county.security")
    created = await gateway.post(
        "/api/v1/clients",
        headers=admin,
        json={"name": "Provincial platform", "scopes": ["demands:write", "cases:read"], "communities": ["chaoyang"]},
    )
    assert created.status_code == 201, created.text
    body = created.json()
    secret = body["client_secret"]
    listed = await gateway.get(f"/api/v1/clients/{body['client_id']}", headers=admin)
    assert "client_secret" not in listed.json()
    token = await client_token(gateway, body["client_id"], secret)
    assert token.status_code == 200
    me = (
        await gateway.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token.json()['access_token']}"})
    ).json()
    assert me["communities"] == ["chaoyang"]
    assert sorted(me["permissions"]) == ["cases:read", "demands:write"]


async def test_client_scopes_are_limited_to_the_narrow_set(gateway: httpx.AsyncClient, tokens: Tokens) -> None:
    admin = tokens.headers("security_officer", community=None)
    resp = await gateway.post("/api/v1/clients", headers=admin, json={"name": "x", "scopes": ["residents:reveal"]})
    assert resp.status_code == 422
    assert "scopes" in resp.json()["errors"][0]["field"]


async def test_only_the_security_officer_manages_clients(gateway: httpx.AsyncClient, tokens: Tokens) -> None:
    """Separation of duties: the account manager (county admin) and the auditor do not."""
    for role in ("community_admin", "county_admin", "auditor"):
        resp = await gateway.post(
            "/api/v1/clients",
            headers=tokens.headers(role, community=None),
            json={"name": "x", "scopes": ["catalog:read"]},
        )
        assert resp.status_code == 403, role


async def test_rotation_keeps_the_old_secret_for_the_grace_period_and_revocation_ends_all(
    gateway: httpx.AsyncClient, tokens: Tokens
) -> None:
    admin = tokens.headers("security_officer", community=None)
    created = (
        await gateway.post("/api/v1/clients", headers=admin, json={"name": "hotline", "scopes": ["catalog:read"]})
    ).json()
    cid, old = created["client_id"], created["client_secret"]
    rotated = await gateway.post(f"/api/v1/clients/{cid}/rotate-secret", headers=admin, json={"grace_seconds": 600})
    new = rotated.json()["client_secret"]
    assert (await client_token(gateway, cid, old)).status_code == 200
    assert (await client_token(gateway, cid, new)).status_code == 200
    no_grace = await gateway.post(f"/api/v1/clients/{cid}/rotate-secret", headers=admin, json={"grace_seconds": 0})
    newest = no_grace.json()["client_secret"]
    assert (await client_token(gateway, cid, new)).status_code == 401
    assert (await client_token(gateway, cid, newest)).status_code == 200
    assert (await gateway.post(f"/api/v1/clients/{cid}/revoke", headers=admin)).status_code == 200
    assert (await client_token(gateway, cid, newest)).status_code == 401


async def test_ip_allow_list_is_enforced_at_token_issuance(gateway: httpx.AsyncClient, tokens: Tokens) -> None:
    admin = tokens.headers("security_officer", community=None)
    created = (
        await gateway.post(
            "/api/v1/clients",
            headers=admin,
            json={"name": "fenced", "scopes": ["catalog:read"], "ip_allowlist": ["10.9.0.0/16"]},
        )
    ).json()
    denied = await client_token(gateway, created["client_id"], created["client_secret"])
    assert denied.status_code == 401
    assert "address" in denied.json()["error_description"]  # OAuth2: ASCII, English


async def test_logins_and_client_tokens_are_audited_and_the_chain_verifies(
    gateway: httpx.AsyncClient, tokens: Tokens
) -> None:
    await gateway.post(
        "/api/v1/auth/token", data={"grant_type": "password", "username": "chaoyang.worker", "password": "wrong"}
    )
    await gateway.post(
        "/api/v1/auth/token",
        data={"grant_type": "password", "username": "chaoyang.worker", "password": "doorstep-demo"},
    )
    await client_token(gateway, "demo.platform", "doorstep-demo")
    auditor = tokens.headers("auditor", community=None)
    entries = (await gateway.get("/api/v1/audit", headers=auditor, params={"actor": "chaoyang.worker"})).json()["items"]
    assert [(e["action"], e["outcome"]) for e in entries] == [("login", "success"), ("login", "failure")]
    clients = (await gateway.get("/api/v1/audit", headers=auditor, params={"action": "token.client"})).json()["items"]
    assert clients[0]["subject_id"] == "demo.platform"
    verify = (await gateway.get("/api/v1/audit/verify", headers=auditor)).json()
    assert verify["ok"] is True
    assert verify["checked"] == 3
    assert (await gateway.get("/api/v1/audit", headers=tokens.headers("social_worker"))).status_code == 403


async def test_a_row_edited_in_the_database_breaks_the_chain(gateway: httpx.AsyncClient, tokens: Tokens) -> None:
    for _ in range(3):
        await gateway.post(
            "/api/v1/auth/token",
            data={"grant_type": "password", "username": "county.admin", "password": "doorstep-demo"},
        )
    engine = gateway._transport.app.state.engine  # type: ignore[attr-defined]
    async with engine.begin() as conn:
        second = (await conn.execute(text("SELECT id FROM audit_log ORDER BY id LIMIT 1 OFFSET 1"))).scalar_one()
        await conn.execute(text("UPDATE audit_log SET outcome = 'failure' WHERE id = :id"), {"id": second})
    verify = (await gateway.get("/api/v1/audit/verify", headers=tokens.headers("auditor", community=None))).json()
    assert verify["ok"] is False
    assert verify["broken_at"] == second


async def test_deleting_the_newest_entry_is_detected(gateway: httpx.AsyncClient, tokens: Tokens) -> None:
    for _ in range(2):
        await gateway.post(
            "/api/v1/auth/token",
            data={"grant_type": "password", "username": "county.admin", "password": "doorstep-demo"},
        )
    engine = gateway._transport.app.state.engine  # type: ignore[attr-defined]
    async with engine.begin() as conn:
        await conn.execute(text("DELETE FROM audit_log WHERE id = (SELECT MAX(id) FROM audit_log)"))
    verify = (await gateway.get("/api/v1/audit/verify", headers=tokens.headers("auditor", community=None))).json()
    assert verify["ok"] is False


@pytest.mark.parametrize("attack", sorted(ATTACKS))
async def test_truncating_rewriting_or_emptying_the_log_fails_verification(
    gateway: httpx.AsyncClient, gateway_app: FastAPI, tokens: Tokens, attack: str
) -> None:
    auditor = tokens.headers("auditor", community=None)
    assert (await gateway.get("/api/v1/audit/verify", headers=auditor)).json()["ok"]  # the start-up checkpoint
    for _ in range(3):
        await gateway.post(
            "/api/v1/auth/token",
            data={"grant_type": "password", "username": "county.admin", "password": "doorstep-demo"},
        )
    assert (await gateway.get("/api/v1/audit/verify", headers=auditor)).json()["checked"] == 3
    tamper, position, words = ATTACKS[attack]
    await tamper(gateway_app.state.engine)
    verify = (await gateway.get("/api/v1/audit/verify", headers=auditor)).json()
    assert verify["ok"] is False, verify
    assert verify["position"] == position
    assert words in verify["reason"]
