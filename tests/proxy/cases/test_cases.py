"""Cases: intake (generalist window), snapshot, status machine, materials, deadlines, tenancy."""

from __future__ import annotations

import datetime as dt
import uuid

import httpx
import pytest

from doorstep_shared.clock import local_today

from ...support import Tokens
from ..helpers import app_of, worker
from .conftest import catalogue, item
from .helpers import BASE, admin, grid_worker, new_case, new_resident, profile

pytestmark = pytest.mark.dates

ALL = ["accepted", "scheduled", "visited", "materials_complete", "filed", "approved", "rejected", "closed", "withdrawn"]


async def _move(
    client: httpx.AsyncClient, headers: dict[str, str], case_id: str, to: str, **extra: str
) -> httpx.Response:
    return await client.post(f"{BASE}/cases/{case_id}/transitions", json={"to": to, **extra}, headers=headers)


async def _tick_all(client: httpx.AsyncClient, headers: dict[str, str], case: dict) -> None:
    for m in case["materials"]:
        resp = await client.put(
            f"{BASE}/cases/{case['id']}/materials/{m['position']}", json={"collected": "copy_taken"}, headers=headers
        )
        assert resp.status_code == 200, resp.text


async def test_a_grid_7_worker_accepts_a_window_case_for_a_grid_2_resident(
    cases: httpx.AsyncClient, tokens: Tokens
) -> None:
    resident = await new_resident(cases, worker(tokens), compound="jingdu", building="2", unit="1", room="101")
    assert resident["grid"] != "chaoyang-g7"
    resp = await cases.post(
        f"{BASE}/cases",
        json={"resident_id": resident["id"], "item_code": "elderly-allowance", "channel": "window"},
        headers=grid_worker(tokens, 7),
    )
    assert resp.status_code == 201, resp.text
    case = resp.json()
    assert case["accepted_by"] == "chaoyang.g7.worker"
    assert case["assigned_grid"] == resident["grid"] and case["assigned_to"] is None
    assert case["status"] == "accepted" and case["allowed_next"] == ["scheduled", "materials_complete", "withdrawn"]
    assert next(m["name"] for m in case["materials"]) == "居民身份证复印件"
    assert case["materials_complete"] is False and len(case["materials_missing"]) == 3
    assert case["snapshot"]["promised_days"] == 15 and case["due_basis"] == "promised"
    assert dt.date.fromisoformat(case["due_date"]) > local_today()
    assert "*" in case["resident"]["name_masked"] and case["resident"]["phone_masked"].count("*") == 4
    assert resp.headers["etag"] and resp.headers["location"].endswith(case["id"])
    timeline = (await cases.get(f"{BASE}/cases/{case['id']}/timeline", headers=worker(tokens))).json()
    assert timeline[0]["to_status"] == "accepted" and timeline[0]["actor"] == "chaoyang.g7.worker"


async def test_keep_leaves_the_case_with_the_accepting_worker(cases: httpx.AsyncClient, tokens: Tokens) -> None:
    resident = await new_resident(cases, worker(tokens))
    case = await new_case(cases, grid_worker(tokens, 7), resident["id"], keep=True)
    assert case["assigned_to"] == "chaoyang.g7.worker"


async def test_every_transition_is_checked_and_the_full_path_is_stamped(
    cases: httpx.AsyncClient, tokens: Tokens
) -> None:
    h = worker(tokens)
    resident = await new_resident(cases, h)
    case = await new_case(cases, h, resident["id"], channel="doorstep")
    path = ["scheduled", "visited", "materials_complete", "filed", "approved", "closed"]
    allowed = {
        "accepted": {"scheduled", "materials_complete", "withdrawn"},
        "scheduled": {"visited", "withdrawn"},
        "visited": {"scheduled", "materials_complete", "withdrawn"},
        "materials_complete": {"filed", "withdrawn"},
        "filed": {"approved", "rejected", "withdrawn"},
        "approved": {"closed"},
        "closed": set(),
    }
    status = "accepted"
    for target in [*path, None]:
        for illegal in sorted(set(ALL) - allowed[status]):
            resp = await _move(cases, h, case["id"], illegal)
            assert resp.status_code == 409, (status, illegal)
            body = resp.json()
            assert body["code"] == "illegal_transition" and set(body["allowed_next"]) == allowed[status]
        if target is None:
            break
        if target == "materials_complete":
            await _tick_all(cases, h, case)
        extra = {"department_ref": "HX-MZ-2026-001"} if target == "filed" else {}
        resp = await _move(cases, h, case["id"], target, note=f"to {target}", **extra)
        assert resp.status_code == 200, resp.text
        assert resp.json()["status"] == target
        status = target
    final = (await cases.get(f"{BASE}/cases/{case['id']}", headers=h)).json()
    assert (
        final["department_ref"] == "HX-MZ-2026-001" and final["filed_at"] and final["decided_at"] and final["closed_at"]
    )
    timeline = (await cases.get(f"{BASE}/cases/{case['id']}/timeline", headers=h)).json()
    moves = [(e["from_status"], e["to_status"]) for e in timeline if e["kind"] == "transition"]
    assert moves == [(None, "accepted"), *zip(["accepted", *path[:-1]], path, strict=True)]
    assert all(e["actor"] == "chaoyang.worker" and e["at"] for e in timeline)


async def test_rejection_and_withdrawal_paths(cases: httpx.AsyncClient, tokens: Tokens) -> None:
    h = worker(tokens)
    resident = await new_resident(cases, h)
    case = await new_case(cases, h, resident["id"])
    await _tick_all(cases, h, case)
    for to, extra in (
        ("materials_complete", {}),
        ("filed", {"department_ref": "R1"}),
        ("rejected", {}),
        ("closed", {}),
    ):
        assert (await _move(cases, h, case["id"], to, **extra)).status_code == 200
    other = await new_case(cases, h, resident["id"], item_code="severe-disability-care-subsidy")
    resp = await _move(cases, h, other["id"], "withdrawn", note="居民撤回申请")
    assert resp.status_code == 200 and resp.json()["allowed_next"] == []
    assert (await _move(cases, h, other["id"], "accepted")).json()["allowed_next"] == []


async def test_materials_complete_is_refused_while_one_is_missing(cases: httpx.AsyncClient, tokens: Tokens) -> None:
    h = worker(tokens)
    resident = await new_resident(cases, h)
    case = await new_case(cases, h, resident["id"])
    await cases.put(f"{BASE}/cases/{case['id']}/materials/1", json={"collected": "original_seen"}, headers=h)
    resp = await cases.put(f"{BASE}/cases/{case['id']}/materials/2", json={"collected": "electronic"}, headers=h)
    body = resp.json()
    assert (
        body["materials"][1]["collected"] == "electronic" and body["materials"][1]["collected_by"] == "chaoyang.worker"
    )
    assert body["materials_missing"] == ["本人银行卡（社保卡）复印件"]
    resp = await _move(cases, h, case["id"], "materials_complete")
    assert resp.status_code == 409 and resp.json()["missing"] == ["本人银行卡（社保卡）复印件"]
    await cases.put(f"{BASE}/cases/{case['id']}/materials/3", json={"collected": "copy_taken"}, headers=h)
    assert (await _move(cases, h, case["id"], "materials_complete")).status_code == 200
    locked = await cases.put(f"{BASE}/cases/{case['id']}/materials/3", json={"collected": None}, headers=h)
    assert locked.status_code == 409
    missing_ref = await _move(cases, h, case["id"], "filed")
    assert missing_ref.status_code == 422 and missing_ref.json()["errors"][0]["field"] == "body.department_ref"
    assert (
        await cases.put(f"{BASE}/cases/{case['id']}/materials/9", json={"collected": None}, headers=h)
    ).status_code in (404, 409)


async def test_retired_and_non_proxy_items_are_refused_with_the_reason(
    cases: httpx.AsyncClient, tokens: Tokens
) -> None:
    h = worker(tokens)
    resident = await new_resident(cases, h)
    body = {"resident_id": resident["id"], "item_code": "old-subsidy", "channel": "window"}
    resp = await cases.post(f"{BASE}/cases", json=body, headers=h)
    assert resp.status_code == 422 and resp.json()["code"] == "item_retired" and resp.json()["reason"] == "retired"
    body.update(item_code="disability-rehabilitation", channel="doorstep")
    resp = await cases.post(f"{BASE}/cases", json=body, headers=h)
    assert resp.status_code == 422 and resp.json()["code"] == "item_not_proxy_eligible"
    body["channel"] = "window"
    assert (await cases.post(f"{BASE}/cases", json=body, headers=h)).status_code == 201
    body["item_code"] = "no-such-item"
    assert (await cases.post(f"{BASE}/cases", json=body, headers=h)).json()["code"] == "unknown_item"


async def test_the_snapshot_does_not_follow_later_catalogue_edits(cases: httpx.AsyncClient, tokens: Tokens) -> None:
    h = worker(tokens)
    resident = await new_resident(cases, h)
    first = await new_case(cases, h, resident["id"])
    edited = item("elderly-allowance", "高龄津贴（新）", promised_days=5, materials=[{"name": "新材料"}])
    app_of(cases).state.catalog.prime(catalogue(revision=2, **{"elderly-allowance": edited}))
    again = (await cases.get(f"{BASE}/cases/{first['id']}", headers=h)).json()
    assert again["snapshot"] == first["snapshot"] and again["item_name"] == "高龄补贴"
    assert [m["name"] for m in again["materials"]] == [m["name"] for m in first["materials"]]
    assert again["due_date"] == first["due_date"] and again["catalog_revision"] == 1
    other = await new_resident(cases, h, room="503")
    fresh = await new_case(cases, h, other["id"])
    assert fresh["item_name"] == "高龄津贴（新）" and [m["name"] for m in fresh["materials"]] == ["新材料"]
    assert fresh["catalog_revision"] == 2


async def test_one_open_case_per_resident_and_item(cases: httpx.AsyncClient, tokens: Tokens) -> None:
    h = worker(tokens)
    resident = await new_resident(cases, h)
    first = await new_case(cases, h, resident["id"])
    resp = await cases.post(
        f"{BASE}/cases",
        json={"resident_id": resident["id"], "item_code": "elderly-allowance", "channel": "window"},
        headers=h,
    )
    assert resp.status_code == 409 and resp.json()["existing_id"] == first["id"]


async def test_a_client_generated_id_is_kept_and_a_retry_returns_the_same_case(
    cases: httpx.AsyncClient, tokens: Tokens
) -> None:
    h = worker(tokens)
    resident = await new_resident(cases, h)
    case_id = str(uuid.uuid4())
    body = {"id": case_id, "resident_id": resident["id"], "item_code": "elderly-allowance", "channel": "doorstep"}
    first = await cases.post(f"{BASE}/cases", json=body, headers=h)
    assert first.status_code == 201 and first.json()["id"] == case_id
    retry = await cases.post(f"{BASE}/cases", json=body, headers=h)
    assert retry.status_code == 200 and retry.json()["id"] == case_id
    other = await new_resident(cases, h, room="999")
    clash = await cases.post(f"{BASE}/cases", json={**body, "resident_id": other["id"]}, headers=h)
    assert clash.status_code == 409 and clash.json()["code"] == "case_id_taken"


async def test_a_stale_if_match_is_412_with_the_current_version(cases: httpx.AsyncClient, tokens: Tokens) -> None:
    h = worker(tokens)
    resident = await new_resident(cases, h)
    case = await new_case(cases, h, resident["id"])
    got = await cases.get(f"{BASE}/cases/{case['id']}", headers=h)
    etag = got.headers["etag"]
    assert (await cases.get(f"{BASE}/cases/{case['id']}", headers={**h, "If-None-Match": etag})).status_code == 304
    ok = await cases.post(
        f"{BASE}/cases/{case['id']}/transitions", json={"to": "scheduled"}, headers={**h, "If-Match": etag}
    )
    assert ok.status_code == 200 and ok.headers["etag"] != etag
    stale = await cases.post(
        f"{BASE}/cases/{case['id']}/transitions", json={"to": "visited"}, headers={**h, "If-Match": etag}
    )
    assert stale.status_code == 412
    # The header is weak when the answer went out compressed; the problem names the version's tag.
    current = stale.json()["current_etag"]
    assert stale.json()["current_version"] == 2 and current == ok.headers["etag"].removeprefix("W/")


async def test_reassignment_needs_a_reason_and_a_worker_of_the_community(
    cases: httpx.AsyncClient, tokens: Tokens
) -> None:
    h = worker(tokens)
    await profile(cases, tokens, "chaoyang.g2.worker", "chaoyang-g2")
    await profile(cases, tokens, "zhenhuai.g1.worker", "zhenhuai-g1", community="zhenhuai")
    resident = await new_resident(cases, h)
    case = await new_case(cases, h, resident["id"])
    url = f"{BASE}/cases/{case['id']}/assignment"
    assert (await cases.post(url, json={"assigned_to": "chaoyang.g2.worker"}, headers=h)).status_code == 422
    wrong = await cases.post(url, json={"assigned_to": "zhenhuai.g1.worker", "reason": "试试"}, headers=h)
    assert wrong.status_code == 422
    resp = await cases.post(url, json={"assigned_to": "chaoyang.g2.worker", "reason": "熟悉该户情况"}, headers=h)
    assert resp.status_code == 200 and resp.json()["assigned_to"] == "chaoyang.g2.worker"
    timeline = (await cases.get(f"{BASE}/cases/{case['id']}/timeline", headers=h)).json()
    assert timeline[-1]["kind"] == "assignment" and timeline[-1]["note"] == "熟悉该户情况"


async def test_admins_override_due_dates_and_the_overdue_and_due_soon_lists_follow(
    cases: httpx.AsyncClient, tokens: Tokens
) -> None:
    h = worker(tokens)
    resident = await new_resident(cases, h)
    late = await new_case(cases, h, resident["id"])
    soon = await new_case(cases, h, resident["id"], item_code="severe-disability-care-subsidy")
    body = {"due_date": (local_today() - dt.timedelta(days=2)).isoformat(), "reason": "补录历史件"}
    assert (await cases.put(f"{BASE}/cases/{late['id']}/due-date", json=body, headers=h)).status_code == 403
    resp = await cases.put(f"{BASE}/cases/{late['id']}/due-date", json=body, headers=admin(tokens))
    assert resp.status_code == 200 and resp.json()["due_basis"] == "override" and resp.json()["overdue"] is True
    await cases.put(
        f"{BASE}/cases/{soon['id']}/due-date",
        json={"due_date": local_today().isoformat(), "reason": "部门要求加急"},
        headers=admin(tokens),
    )
    overdue = (await cases.get(f"{BASE}/cases?overdue=true", headers=h)).json()["items"]
    assert [c["id"] for c in overdue] == [late["id"]]
    due_soon = (await cases.get(f"{BASE}/cases?due_soon=true", headers=h)).json()["items"]
    assert [c["id"] for c in due_soon] == [soon["id"]] and due_soon[0]["due_soon"] is True


async def test_another_communitys_case_is_absent(cases: httpx.AsyncClient, tokens: Tokens) -> None:
    h = worker(tokens)
    resident = await new_resident(cases, h)
    case = await new_case(cases, h, resident["id"])
    other = worker(tokens, "zhenhuai")
    assert (await cases.get(f"{BASE}/cases/{case['id']}", headers=other)).status_code == 404
    assert (await cases.get(f"{BASE}/cases/{case['id']}/timeline", headers=other)).status_code == 404
    assert (await _move(cases, other, case["id"], "scheduled")).status_code == 404
    assert (await cases.get(f"{BASE}/cases", headers=other)).json()["items"] == []
    body = {"resident_id": resident["id"], "item_code": "severe-disability-care-subsidy", "channel": "window"}
    assert (await cases.post(f"{BASE}/cases", json=body, headers=other)).status_code == 422
    listed = (await cases.get(f"{BASE}/cases?limit=1", headers=h)).json()
    assert [c["id"] for c in listed["items"]] == [case["id"]]


async def test_a_case_from_a_demand_converts_the_demand(cases: httpx.AsyncClient, tokens: Tokens) -> None:
    h = worker(tokens)
    resident = await new_resident(cases, h)
    demand = (
        await cases.post(
            f"{BASE}/demands",
            json={"resident_id": resident["id"], "channel": "window", "kind": "request", "text": "申请高龄补贴"},
            headers=h,
        )
    ).json()
    case = await new_case(cases, h, resident["id"], demand_id=demand["id"])
    assert case["demand_id"] == demand["id"]
    after = (await cases.get(f"{BASE}/demands/{demand['id']}", headers=h)).json()
    assert after["status"] == "converted" and after["case_ref"] == case["id"]
    other = await new_resident(cases, h, room="601")
    again = await cases.post(
        f"{BASE}/cases",
        json={
            "resident_id": other["id"],
            "item_code": "elderly-allowance",
            "channel": "window",
            "demand_id": demand["id"],
        },
        headers=h,
    )
    assert again.status_code in (409, 422)
