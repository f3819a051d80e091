"""Data retention: residents off the register longer than the retention period lose their
personal data; everyone else is untouched; the purge is idempotent and audited."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select, update

from doorstep_proxy.config import ProxySettings
from doorstep_proxy.demands.models import Demand
from doorstep_proxy.ledger.models import Resident, RevealAudit
from doorstep_proxy.retention import service as retention
from doorstep_shared.clock import utcnow

from ...support import Tokens
from ..helpers import BASE, admin, create, with_compounds, worker

pytestmark = pytest.mark.dates

PURGE = f"{BASE}/admin/purge"


def county_admin(tokens: Tokens) -> dict[str, str]:
    return tokens.headers("county_admin", community=None, subject="county.admin")


async def _removed(
    client: httpx.AsyncClient, app: FastAPI, tokens: Tokens, days_ago: int, **overrides: Any
) -> dict[str, Any]:
    """A resident taken off the register ``days_ago`` days ago, with a demand of theirs."""
    r = await create(client, worker(tokens), disability_certificate_no="34052319690914123412", **overrides)
    d = await client.post(
        f"{BASE}/demands",
        json={
            "resident_id": r["id"],
            "channel": "phone",
            "text": "咨询补贴",
            "contact_name": "江明远",
            "contact_phone": "13812345678",
        },
        headers=worker(tokens),
    )
    assert d.status_code == 201, d.text
    resp = await client.post(
        f"{BASE}/residents/{r['id']}/removal",
        json={"status": "moved_away", "reason": "随女儿江小禾迁往合肥"},
        headers=worker(tokens),
    )
    assert resp.status_code == 200, resp.text
    async with app.state.sessionmaker() as session:
        await session.execute(
            update(Resident)
            .where(Resident.id == uuid.UUID(r["id"]))
            .values(removed_at=utcnow() - dt.timedelta(days=days_ago))
        )
        await session.commit()
    return {**r, "demand_id": d.json()["id"]}


async def _row(app: FastAPI, resident_id: str) -> Any:
    async with app.state.sessionmaker() as session:
        return (
            await session.execute(
                select(
                    Resident.name,
                    Resident.id_number_enc,
                    Resident.id_number_hash,
                    Resident.id_last4,
                    Resident.phone_enc,
                    Resident.phone_hash,
                    Resident.disability_cert_enc,
                    Resident.removed_reason,
                    Resident.status,
                    Resident.birth_date,
                    Resident.compound_code,
                    Resident.disability_grade,
                ).where(Resident.id == uuid.UUID(resident_id))
            )
        ).one()


async def _demand_contact(app: FastAPI, demand_id: str) -> tuple[Any, Any]:
    async with app.state.sessionmaker() as session:
        row = (
            await session.execute(
                select(Demand.contact_name, Demand.contact_phone_enc).where(Demand.id == uuid.UUID(demand_id))
            )
        ).one()
    return row[0], row[1]


async def test_residents_removed_longer_than_the_retention_period_are_erased_and_others_untouched(
    proxy: httpx.AsyncClient, proxy_app: FastAPI, tokens: Tokens
) -> None:
    await with_compounds(proxy)
    old = await _removed(proxy, proxy_app, tokens, 400)
    recent = await _removed(proxy, proxy_app, tokens, 10, name="韩素梅", phone="13912345678")
    active = await create(proxy, worker(tokens), name="宋立平", phone="13712345678")
    before_recent = await _row(proxy_app, recent["id"])
    before_active = await _row(proxy_app, active["id"])
    before_old = await _row(proxy_app, old["id"])

    assert (await proxy.post(PURGE, headers=worker(tokens))).status_code == 403
    assert (await proxy.post(PURGE, headers=admin(tokens))).status_code == 403  # community admins too
    resp = await proxy.post(PURGE, headers=county_admin(tokens))
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["erased"] == 1 and body["demands_cleared"] == 1 and body["retention_days"] == 365

    erased = await _row(proxy_app, old["id"])
    assert erased.name == retention.PLACEHOLDER
    assert erased.id_number_hash == f"erased:{uuid.UUID(old['id']).hex}"
    assert erased.id_number_enc != before_old.id_number_enc and erased.id_last4 == ""
    assert erased.phone_enc is None and erased.phone_hash is None and erased.disability_cert_enc is None
    assert erased.removed_reason is None
    # what the figures need stays
    assert (erased.status, erased.birth_date, erased.compound_code, erased.disability_grade) == (
        before_old.status,
        before_old.birth_date,
        before_old.compound_code,
        before_old.disability_grade,
    )
    assert await _demand_contact(proxy_app, old["demand_id"]) == (None, None)
    # the erased ID number decrypts to nothing; the record is still readable (masked view)
    cipher = proxy_app.state.pii
    assert cipher.decrypt(erased.id_number_enc, context="resident.id_number") == ""
    read = await proxy.get(f"{BASE}/residents/{old['id']}", headers=worker(tokens))
    assert read.status_code == 200, read.text
    assert read.json()["name"] == retention.PLACEHOLDER and read.json()["phone_masked"] is None

    assert await _row(proxy_app, recent["id"]) == before_recent
    assert await _row(proxy_app, active["id"]) == before_active
    assert (await _demand_contact(proxy_app, recent["demand_id"]))[0] == "江明远"

    async with proxy_app.state.sessionmaker() as session:
        audit = (await session.execute(select(RevealAudit))).scalars().all()
    assert [(a.actor, a.resident_id, a.reason.startswith("retention purge")) for a in audit] == [
        ("county.admin", uuid.UUID(old["id"]), True)
    ]
    assert "name" in audit[0].fields.split(",")

    again = await proxy.post(PURGE, headers=county_admin(tokens))
    assert again.status_code == 200 and again.json()["erased"] == 0
    assert await _row(proxy_app, old["id"]) == erased


async def test_the_background_pass_erases_once_even_when_replicas_run_it_together(
    proxy: httpx.AsyncClient, proxy_app: FastAPI, tokens: Tokens
) -> None:
    await with_compounds(proxy)
    removed = [await _removed(proxy, proxy_app, tokens, 366 + n) for n in range(3)]
    results = await asyncio.gather(
        *(retention.run_once(proxy_app.state.sessionmaker, proxy_app.state.pii, 365) for _ in range(3))
    )
    assert sum(r.erased for r in results) == 3
    for r in removed:
        assert (await _row(proxy_app, r["id"])).name == retention.PLACEHOLDER
    async with proxy_app.state.sessionmaker() as session:
        audit = (await session.execute(select(RevealAudit.resident_id, RevealAudit.actor))).all()
    assert sorted(str(a[0]) for a in audit) == sorted(r["id"] for r in removed)
    assert {a[1] for a in audit} == {"system"}
    # a longer retention period leaves a recently removed resident alone
    late = await _removed(proxy, proxy_app, tokens, 100)
    assert (await retention.run_once(proxy_app.state.sessionmaker, proxy_app.state.pii, 365)).erased == 0
    assert (await _row(proxy_app, late["id"])).name != retention.PLACEHOLDER


def test_the_retention_period_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert ProxySettings(environment="test").retention_days == 365
    monkeypatch.setenv("DOORSTEP_PROXY_RETENTION_DAYS", "730")
    settings = ProxySettings(environment="test")
    assert settings.retention_days == 730 and settings.background_enabled is False
    assert ProxySettings(environment="test", worker_enabled=True).background_enabled is True


async def test_the_background_pass_also_forgets_old_sync_tombstones(proxy_app: FastAPI) -> None:
    from doorstep_proxy.cases.models import SyncTombstone

    async with proxy_app.state.sessionmaker() as session:
        for entity_id, version, age in (("old", 1, 400), ("new", 2, 0)):
            deleted_at = utcnow() - dt.timedelta(days=age)
            session.add(
                SyncTombstone(
                    entity="resident",
                    entity_id=entity_id,
                    community="chaoyang",
                    row_version=version,
                    deleted_at=deleted_at,
                )
            )
        await session.commit()
    await retention._purge_old_tombstones(proxy_app.state.sessionmaker)
    async with proxy_app.state.sessionmaker() as session:
        left = (await session.execute(select(SyncTombstone.entity_id))).scalars().all()
    assert list(left) == ["new"]
