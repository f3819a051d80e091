"""Reveals, imports, removals and retention erasures land in the proxy's append-only,
hash-chained audit log (issue 8, part 5), readable and verifiable by auditors only."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text

from ..audit_attacks import ATTACKS
from ..support import Tokens
from .helpers import BASE, auditor, create, id_number, with_compounds, worker
from .retention.test_retention import PURGE, _removed, county_admin
from .survey_import.test_import import sheet_rows, to_csv, upload

AUDIT = f"{BASE}/audit"
REASON = "为居民江明远(13812345678)填写残疾人补贴申请表"


async def entries(client: httpx.AsyncClient, tokens: Tokens, **params: Any) -> list[dict[str, Any]]:
    resp = await client.get(AUDIT, headers=auditor(tokens), params=params)
    assert resp.status_code == 200, resp.text
    items: list[dict[str, Any]] = resp.json()["items"]
    return items


async def verify(client: httpx.AsyncClient, tokens: Tokens) -> dict[str, Any]:
    resp = await client.get(f"{AUDIT}/verify", headers=auditor(tokens))
    assert resp.status_code == 200, resp.text
    body: dict[str, Any] = resp.json()
    return body


async def three_reveals(proxy: httpx.AsyncClient, tokens: Tokens) -> None:
    await with_compounds(proxy)
    r = await create(proxy, worker(tokens))
    for _ in range(3):
        resp = await proxy.post(
            f"{BASE}/residents/{r['id']}/reveal", json={"reason": "核对补贴申请信息"}, headers=worker(tokens)
        )
        assert resp.status_code == 200, resp.text


async def test_a_reveal_and_an_import_are_chained_entries_without_personal_data(
    proxy: httpx.AsyncClient, tokens: Tokens
) -> None:
    await with_compounds(proxy)
    number = id_number()
    r = await create(proxy, worker(tokens), id_number=number)
    resp = await proxy.post(
        f"{BASE}/residents/{r['id']}/reveal",
        json={"reason": REASON, "fields": ["phone", "id_number"]},
        headers={**worker(tokens), "X-Request-ID": "req-chain-1"},
    )
    assert resp.status_code == 200, resp.text
    reveal_audit_id = resp.json()["audit_id"]
    sheet = to_csv(sheet_rows(3))
    imported = await upload(proxy, tokens, sheet, mode="valid_rows")
    assert imported.status_code == 200, imported.text

    found = await entries(proxy, tokens)
    assert [e["action"] for e in found] == ["residents.import", "resident.reveal"]
    imp, rev = found
    assert (rev["actor"], rev["subject_type"], rev["subject_id"], rev["community"]) == (
        "chaoyang.worker",
        "resident",
        r["id"],
        "chaoyang",
    )
    assert rev["details"] == {
        "fields": ["id_number", "phone"],
        "reveal_audit_id": reveal_audit_id,
        "reason_length": len(REASON),
    }
    assert rev["request_id"] == "req-chain-1"
    assert (imp["actor"], imp["community"], imp["outcome"]) == ("chaoyang.admin", "chaoyang", "success")
    details = imp["details"]
    assert (details["mode"], details["created"], details["updated"], details["rejected"]) == ("valid_rows", 3, 0, 0)
    assert "file_name_length" in details
    # Neither the revealed values, nor the reason text, nor the sheet's content or name.
    dump = str(found)
    for secret in (number, "13812345678", "江明远", "测试0", "sheet.csv", *(row[3] for row in sheet_rows(3))):
        assert secret not in dump
    # The legacy reveal trail still answers as before.
    assert (await proxy.get(f"{BASE}/reveals", headers=auditor(tokens))).json()["items"][0]["id"] == reveal_audit_id

    assert await verify(proxy, tokens) == {
        "ok": True,
        "checked": 2,
        "broken_at": None,
        "position": None,
        "reason": None,
    }
    assert [e["action"] for e in await entries(proxy, tokens, action="resident.reveal")] == ["resident.reveal"]


async def test_removals_and_retention_erasures_are_chained_entries(
    proxy: httpx.AsyncClient, proxy_app: FastAPI, tokens: Tokens
) -> None:
    await with_compounds(proxy)
    old = await _removed(proxy, proxy_app, tokens, 400)
    resp = await proxy.post(PURGE, headers=county_admin(tokens))
    assert resp.status_code == 200 and resp.json()["erased"] == 1, resp.text

    found = await entries(proxy, tokens, subject_id=old["id"])
    assert [e["action"] for e in found] == ["resident.erased", "resident.remove"]
    erased, removed = found
    assert (erased["actor"], erased["community"]) == ("county.admin", "chaoyang")
    assert "name" in erased["details"]["fields"] and erased["details"]["retention_days"] == 365
    assert removed["actor"] == "chaoyang.worker"
    assert removed["details"]["status"] == "moved_away"
    assert "江小禾" not in str(found)  # the removal reason is free text: only its length is kept
    assert (await verify(proxy, tokens))["ok"] is True


async def test_a_row_edited_in_the_database_breaks_the_chain(
    proxy: httpx.AsyncClient, proxy_app: FastAPI, tokens: Tokens
) -> None:
    await three_reveals(proxy, tokens)
    assert (await verify(proxy, tokens))["ok"] is True

    async with proxy_app.state.engine.begin() as conn:
        second = (await conn.execute(text("SELECT id FROM audit_log ORDER BY id LIMIT 1 OFFSET 1"))).scalar_one()
        await conn.execute(text("UPDATE audit_log SET actor = 'someone.else' WHERE id = :id"), {"id": second})
    broken = await verify(proxy, tokens)
    assert broken["ok"] is False
    assert broken["broken_at"] == second
    assert "edited" in broken["reason"]


async def test_only_auditors_read_the_audit_log(proxy: httpx.AsyncClient, tokens: Tokens) -> None:
    for path in (AUDIT, f"{AUDIT}/verify"):
        assert (await proxy.get(path, headers=worker(tokens))).status_code == 403
        assert (await proxy.get(path)).status_code == 401
        assert (await proxy.get(path, headers=tokens.headers("auditor", community=None))).status_code == 200


@pytest.mark.parametrize("attack", sorted(ATTACKS))
async def test_truncating_rewriting_or_emptying_the_log_fails_verification(
    proxy: httpx.AsyncClient, proxy_app: FastAPI, tokens: Tokens, attack: str
) -> None:
    assert (await verify(proxy, tokens))["ok"] is True  # what the start-up checkpoint pins
    await three_reveals(proxy, tokens)
    assert (await verify(proxy, tokens))["checked"] == 3
    tamper, position, words = ATTACKS[attack]
    await tamper(proxy_app.state.engine)
    broken = await verify(proxy, tokens)
    assert broken["ok"] is False, broken
    assert broken["position"] == position
    assert words in broken["reason"]
