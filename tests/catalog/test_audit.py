"""Admin edits of the catalogue land in an append-only, hash-chained audit log (issue 8, part 5)."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import text

from ..support import Tokens
from .helpers import DEMO_COUNTY, create_item

AUDIT = "/api/v1/catalog/audit"
ITEMS = "/api/v1/catalog/items"


async def entries(client: httpx.AsyncClient, tokens: Tokens, **params: Any) -> list[dict[str, Any]]:
    resp = await client.get(AUDIT, headers=tokens.headers("auditor", community=None), params=params)
    assert resp.status_code == 200, resp.text
    items: list[dict[str, Any]] = resp.json()["items"]
    return items


async def edit(client: httpx.AsyncClient, headers: dict[str, str], code: str, **changes: Any) -> httpx.Response:
    etag = (await client.get(f"{ITEMS}/{code}", headers=headers)).headers["ETag"]
    resp = await client.patch(f"{ITEMS}/{code}", json=changes, headers={**headers, "If-Match": etag})
    assert resp.status_code == 200, resp.text
    return resp


async def test_item_edits_are_audited_with_who_what_version_and_field_names(
    seeded: httpx.AsyncClient, admin: dict[str, str], tokens: Tokens
) -> None:
    await create_item(seeded, admin, "audit-item")
    await edit(seeded, admin, "audit-item", reason="联系人张某某13800138000", contact="社区窗口", summary="新简介")
    await edit(seeded, admin, "audit-item", reason="政策到期", status="retired")
    await edit(seeded, admin, "audit-item", reason="恢复办理", status="published")

    found = await entries(seeded, tokens, subject_id="audit-item")
    assert [e["action"] for e in found] == ["item.republish", "item.retire", "item.update", "item.create"]
    assert {e["actor"] for e in found} == {"chaoyang.admin"}
    assert {(e["subject_type"], e["outcome"]) for e in found} == {("item", "success")}
    update = found[2]
    assert update["details"]["version"] == 2
    assert update["details"]["fields"] == ["contact", "summary"]
    assert found[1]["details"] == {
        "county": DEMO_COUNTY,
        "version": 3,
        "published_version": 3,
        "status": "retired",
        "fields": ["status"],
    }
    # The free-text reason (which could name a resident) is not copied into the log.
    assert all("reason" not in e["details"] for e in found)
    assert "13800138000" not in str(found)
    assert all(e["request_id"] for e in found)


async def test_category_tip_and_briefing_writes_are_audited(
    seeded: httpx.AsyncClient, admin: dict[str, str], worker: dict[str, str], tokens: Tokens
) -> None:
    resp = await seeded.post(
        "/api/v1/catalog/categories", json={"code": "audit-cat", "name": "审计分类"}, headers=admin
    )
    assert resp.status_code == 201, resp.text
    resp = await seeded.patch(
        "/api/v1/catalog/categories/audit-cat",
        json={"name": "审计分类二", "position": 0},
        headers={**admin, "If-Match": resp.headers["ETag"]},
    )
    assert resp.status_code == 200, resp.text
    tip = (await seeded.post(f"{ITEMS}/dibao/tips", json={"body": "先问清户口"}, headers=worker)).json()
    resp = await seeded.post(f"/api/v1/catalog/tips/{tip['id']}/hide", json={"reason": "重复"}, headers=admin)
    assert resp.status_code == 200, resp.text
    resp = await seeded.post(
        "/api/v1/catalog/briefings",
        json={"community": "chaoyang", "held_on": "2026-03-02", "agenda": [{"item_code": "dibao", "note": "x"}]},
        headers=admin,
    )
    assert resp.status_code == 201, resp.text

    found = {e["action"]: e for e in await entries(seeded, tokens)}
    assert found["category.create"]["subject_id"] == "audit-cat"
    assert found["category.update"]["details"] == {"version": 2, "fields": ["name"]}
    hide = found["tip.hide"]
    assert (hide["subject_id"], hide["community"], hide["details"]) == (str(tip["id"]), "chaoyang", {"item": "dibao"})
    briefing = found["briefing.create"]
    assert briefing["community"] == "chaoyang"
    assert briefing["details"]["items"] == ["dibao"]
    assert (await seeded.get(f"{AUDIT}/verify", headers=tokens.headers("auditor", community=None))).json()["ok"]


async def test_a_failed_edit_leaves_no_entry(seeded: httpx.AsyncClient, admin: dict[str, str], tokens: Tokens) -> None:
    await create_item(seeded, admin, "audit-item")
    resp = await seeded.patch(
        f"{ITEMS}/audit-item", json={"reason": "x", "trips": 0}, headers={**admin, "If-Match": '"stale"'}
    )
    assert resp.status_code == 412
    assert [e["action"] for e in await entries(seeded, tokens, subject_id="audit-item")] == ["item.create"]


async def test_only_auditors_read_the_log(
    catalog: httpx.AsyncClient, worker: dict[str, str], admin: dict[str, str], tokens: Tokens
) -> None:
    for path in (AUDIT, f"{AUDIT}/verify"):
        assert (await catalog.get(path, headers=worker)).status_code == 403
        assert (await catalog.get(path, headers=admin)).status_code == 403
        assert (await catalog.get(path)).status_code == 401
        assert (await catalog.get(path, headers=tokens.headers("auditor", community=None))).status_code == 200


async def test_the_chain_verifies_and_a_row_edited_in_the_database_breaks_it(
    seeded: httpx.AsyncClient, catalog_app: FastAPI, county_admin: dict[str, str], tokens: Tokens
) -> None:
    for n in range(3):
        await create_item(seeded, county_admin, f"audit-item-{n}")
    auditor = tokens.headers("auditor", community=None)
    verify = (await seeded.get(f"{AUDIT}/verify", headers=auditor)).json()
    assert verify == {"ok": True, "checked": 3, "broken_at": None, "position": None, "reason": None}

    async with catalog_app.state.engine.begin() as conn:
        second = (await conn.execute(text("SELECT id FROM audit_log ORDER BY id LIMIT 1 OFFSET 1"))).scalar_one()
        await conn.execute(text("UPDATE audit_log SET actor = 'someone.else' WHERE id = :id"), {"id": second})
    verify = (await seeded.get(f"{AUDIT}/verify", headers=auditor)).json()
    assert verify["ok"] is False
    assert verify["broken_at"] == second
    assert "edited" in verify["reason"]
