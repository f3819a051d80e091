"""Audit retention (issue 20): the gateway's background pass prunes entries older than
AUDIT_RETENTION_DAYS behind a keyed checkpoint of the pruned prefix, so /verify still passes on
what is left and fails when that checkpoint or a remaining entry is tampered with; production
refuses a retention under 180 days. Time moves with a travelled clock."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
import pytest
import time_machine
from fastapi import FastAPI
from sqlalchemy import text

from doorstep_gateway.db import audit
from doorstep_shared.app import prune_expired_audit
from doorstep_shared.clock import utcnow
from doorstep_shared.config import AuditSettings

from ..support import Tokens


async def sign_in(client: httpx.AsyncClient, username: str) -> None:
    data = {"grant_type": "password", "username": username, "password": "doorstep-demo"}
    assert (await client.post("/api/v1/auth/token", data=data)).status_code == 200


async def logged(client: httpx.AsyncClient, tokens: Tokens) -> list[tuple[str, str]]:
    params = {"limit": 200}
    items = (
        await client.get("/api/v1/audit", headers=tokens.headers("auditor", community=None), params=params)
    ).json()["items"]
    return [(i["action"], i["subject_id"]) for i in reversed(items)]


async def verify(client: httpx.AsyncClient, tokens: Tokens) -> dict[str, Any]:
    """As the auditor, with a token minted now (the clock travels)."""
    auditor = tokens.headers("auditor", community=None)
    result: dict[str, Any] = (await client.get("/api/v1/audit/verify", headers=auditor)).json()
    return result


async def test_entries_past_the_retention_are_pruned_and_the_rest_still_verifies(
    gateway: httpx.AsyncClient, gateway_app: FastAPI, tokens: Tokens, configure: Any
) -> None:
    configure(audit_retention_days=180)
    with time_machine.travel(utcnow(), tick=False) as clock:
        await sign_in(gateway, "chaoyang.worker")
        await sign_in(gateway, "chaoyang.worker")
        assert (await verify(gateway, tokens))["checked"] == 2  # the anchor pins two entries
        clock.shift(dt.timedelta(days=100))
        await sign_in(gateway, "county.admin")
        assert await prune_expired_audit(gateway_app, audit) == 0  # 100 days: everything is kept
        clock.shift(dt.timedelta(days=81))  # the worker's sign-ins are 181 days old, the admin's 81
        assert await prune_expired_audit(gateway_app, audit) == 2
        entries = await logged(gateway, tokens)
        assert entries[0] == ("login", "county.admin")
        assert [a for a, _ in entries] == ["login", "audit.pruned"]
        auditor = tokens.headers("auditor", community=None)
        pruning = (await gateway.get("/api/v1/audit", headers=auditor, params={"action": "audit.pruned"})).json()
        assert pruning["items"][0]["details"]["pruned"] == 2 and pruning["items"][0]["actor"] == "system"
        assert await verify(gateway, tokens) == {
            "ok": True,
            "checked": 4,  # two pruned, the admin's sign-in, the pruning
            "broken_at": None,
            "position": None,
            "reason": None,
        }
        assert await prune_expired_audit(gateway_app, audit) == 0  # nothing more is old enough
        clock.shift(dt.timedelta(days=200))
        await sign_in(gateway, "chaoyang.admin")
        assert await prune_expired_audit(gateway_app, audit) == 2  # a second checkpoint, chained
        assert [a for a, _ in await logged(gateway, tokens)] == ["login", "audit.pruned"]
        assert (await verify(gateway, tokens))["ok"] is True


async def test_a_retention_of_zero_keeps_everything(
    gateway: httpx.AsyncClient, gateway_app: FastAPI, configure: Any
) -> None:
    configure(audit_retention_days=0)
    with time_machine.travel(utcnow(), tick=False) as clock:
        await sign_in(gateway, "chaoyang.worker")
        clock.shift(dt.timedelta(days=3000))
        assert await prune_expired_audit(gateway_app, audit) == 0


@pytest.mark.parametrize(
    ("tamper", "words"),
    [
        ("UPDATE audit_pruned SET pruned = pruned + 1, total = total + 1", "does not hold"),
        ("DELETE FROM audit_pruned", "previous hash does not match"),
        ("DELETE FROM audit_log WHERE id = (SELECT MIN(id) FROM audit_log)", "previous hash does not match"),
    ],
)
async def test_a_tampered_checkpoint_or_a_deleted_remaining_entry_fails_verify(
    gateway: httpx.AsyncClient, gateway_app: FastAPI, tokens: Tokens, configure: Any, tamper: str, words: str
) -> None:
    configure(audit_retention_days=180)
    with time_machine.travel(utcnow(), tick=False) as clock:
        await sign_in(gateway, "chaoyang.worker")
        clock.shift(dt.timedelta(days=181))
        await sign_in(gateway, "county.admin")
        await sign_in(gateway, "county.admin")
        assert await prune_expired_audit(gateway_app, audit) == 1
        assert (await verify(gateway, tokens))["ok"] is True
    async with gateway_app.state.engine.begin() as conn:
        await conn.execute(text(tamper))
    broken = await verify(gateway, tokens)
    assert broken["ok"] is False, broken
    assert words in broken["reason"]


def test_production_refuses_a_retention_under_180_days() -> None:
    production = {
        "environment": "production",
        "database_url": "postgresql+asyncpg://doorstep@db/doorstep",
        "audit_keys": "k1:" + "A" * 43,
    }
    with pytest.raises(ValueError, match="AUDIT_RETENTION_DAYS must be at least 180"):
        AuditSettings(**production, audit_retention_days=179)
    assert AuditSettings(**production).audit_retention_days == 180
    assert AuditSettings(**production, audit_retention_days=0).audit_retention_days == 0  # never prune
    assert AuditSettings(environment="test", audit_retention_days=1).audit_retention_days == 1
