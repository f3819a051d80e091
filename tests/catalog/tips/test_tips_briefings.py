from __future__ import annotations

import datetime as dt

import httpx
import pytest

from doorstep_shared.clock import local_today, utcnow

from ...support import Tokens

pytestmark = pytest.mark.dates

ITEMS = "/api/v1/catalog/items"
BRIEFINGS = "/api/v1/catalog/briefings"


async def test_seeded_face_check_tip_is_on_the_item(seeded: httpx.AsyncClient, worker: dict[str, str]) -> None:
    tips = (await seeded.get(f"{ITEMS}/pension-face-check/tips", headers=worker)).json()["items"]
    assert any("手机与脸部保持同一高度" in t["body"] for t in tips)


async def test_any_staff_adds_a_tip_and_a_community_admin_hides_it(
    seeded: httpx.AsyncClient, worker: dict[str, str], admin: dict[str, str], tokens: Tokens
) -> None:
    keeper = tokens.headers("station_keeper", community="chaoyang", subject="shuxiang.keeper")
    added = await seeded.post(f"{ITEMS}/dibao/tips", json={"body": "先问清家庭人口再填表"}, headers=worker)
    assert added.status_code == 201
    tip = added.json()
    assert tip["author"] == "chaoyang.worker" and tip["community"] == "chaoyang"
    assert (await seeded.post(f"{ITEMS}/dibao/tips", json={"body": "驿站也能咨询"}, headers=keeper)).status_code == 201
    auditor = tokens.headers("auditor", community=None, subject="county.auditor")
    assert (await seeded.post(f"{ITEMS}/dibao/tips", json={"body": "x"}, headers=auditor)).status_code == 403
    assert (await seeded.post(f"/api/v1/catalog/tips/{tip['id']}/hide", headers=worker)).status_code == 403
    other_admin = tokens.headers("community_admin", community="zhenhuai", subject="zhenhuai.admin")
    assert (await seeded.post(f"/api/v1/catalog/tips/{tip['id']}/hide", headers=other_admin)).status_code == 404
    hidden = await seeded.post(f"/api/v1/catalog/tips/{tip['id']}/hide", json={"reason": "过时"}, headers=admin)
    assert hidden.status_code == 200 and hidden.json()["hidden"] is True
    visible = (await seeded.get(f"{ITEMS}/dibao/tips", headers=worker)).json()["items"]
    assert [t["body"] for t in visible] == ["驿站也能咨询"]
    everything = (await seeded.get(f"{ITEMS}/dibao/tips", params={"include_hidden": "true"}, headers=admin)).json()
    assert len(everything["items"]) == 2
    assert (await seeded.post(f"{ITEMS}/dibao/tips", json={"body": ""}, headers=worker)).status_code == 422
    assert (await seeded.post(f"{ITEMS}/nope/tips", json={"body": "x"}, headers=worker)).status_code == 404


async def test_a_community_admin_sees_only_their_own_communitys_hidden_tips(
    seeded: httpx.AsyncClient,
    worker: dict[str, str],
    admin: dict[str, str],
    county_admin: dict[str, str],
    tokens: Tokens,
) -> None:
    tip = (await seeded.post(f"{ITEMS}/dibao/tips", json={"body": "朝阳内部备注"}, headers=worker)).json()
    assert (await seeded.post(f"/api/v1/catalog/tips/{tip['id']}/hide", json={"reason": "x"}, headers=admin)).is_success
    other_admin = tokens.headers("community_admin", community="zhenhuai", subject="zhenhuai.admin")

    def bodies(resp: httpx.Response) -> set[str]:
        assert resp.status_code == 200, resp.text
        return {t["body"] for t in resp.json()["items"]}

    hidden = {"include_hidden": "true"}
    assert "朝阳内部备注" not in bodies(await seeded.get(f"{ITEMS}/dibao/tips", params=hidden, headers=other_admin))
    assert "朝阳内部备注" in bodies(await seeded.get(f"{ITEMS}/dibao/tips", params=hidden, headers=admin))
    assert "朝阳内部备注" in bodies(await seeded.get(f"{ITEMS}/dibao/tips", params=hidden, headers=county_admin))


async def test_a_phone_or_id_number_in_a_tip_comes_back_masked(
    seeded: httpx.AsyncClient, worker: dict[str, str]
) -> None:
    typed = "王阿姨电话 +86 138-1234-5678，身份证 340523199001011234"
    added = await seeded.post(f"{ITEMS}/dibao/tips", json={"body": typed}, headers=worker)
    assert added.status_code == 201, added.text
    listed = await seeded.get(f"{ITEMS}/dibao/tips", headers=worker)
    for resp in (added, listed):
        assert "1234-5678" not in resp.text and "19900101" not in resp.text
        assert "138****5678" in resp.text and "340523********1234" in resp.text


async def test_a_worker_sees_items_changed_since_the_last_briefing_attended(
    seeded: httpx.AsyncClient, worker: dict[str, str], admin: dict[str, str]
) -> None:
    tips = (await seeded.get(f"{ITEMS}/pension-face-check/tips", headers=worker)).json()["items"]
    before = (await seeded.get(f"{BRIEFINGS}/since-my-last", headers=worker)).json()
    assert before["last_briefing"] is None
    held_at = utcnow() - dt.timedelta(minutes=1)  # this morning's meeting; the edit below comes after it
    created = await seeded.post(
        BRIEFINGS,
        json={
            "community": "chaoyang",
            "held_on": local_today(held_at).isoformat(),
            "held_at": held_at.isoformat(),
            "title": "晨会",
            "agenda": [
                {"item_code": "pension-face-check", "note": "刷脸角度要找准"},
                {"note": "本周走访安排"},
            ],
            "tip_ids": [tips[0]["id"]],
            "attendees": ["chaoyang.worker", "chaoyang.admin"],
        },
        headers=admin,
    )
    assert created.status_code == 201, created.text
    briefing = created.json()
    assert briefing["agenda"][0]["item_name"] == "养老金资格认证"
    assert briefing["tips"][0]["id"] == tips[0]["id"]
    etag = (await seeded.get(f"{ITEMS}/elderly-allowance", headers=admin)).headers["etag"]
    await seeded.patch(
        f"{ITEMS}/elderly-allowance",
        json={"reason": "新增材料", "trips": 0, "contact": "综合窗口3号"},
        headers={**admin, "If-Match": etag},
    )
    since = (await seeded.get(f"{BRIEFINGS}/since-my-last", headers=worker)).json()
    assert since["last_briefing"]["id"] == briefing["id"]
    changed = {i["item_code"]: i for i in since["items"]}
    assert "elderly-allowance" in changed
    fields = {f["field"] for f in changed["elderly-allowance"]["changes"][-1]["changed_fields"]}
    assert fields == {"contact"}
    listed = (await seeded.get(BRIEFINGS, headers=worker)).json()["items"]
    assert [b["id"] for b in listed] == [briefing["id"]]
    assert (await seeded.get(f"{BRIEFINGS}/{briefing['id']}", headers=worker)).status_code == 200


async def test_briefings_stay_inside_their_community(
    seeded: httpx.AsyncClient, admin: dict[str, str], tokens: Tokens
) -> None:
    body = {"community": "chaoyang", "held_on": "2026-03-03", "attendees": ["chaoyang.worker"]}
    created = (await seeded.post(BRIEFINGS, json=body, headers=admin)).json()
    outsider = tokens.headers("social_worker", community="zhenhuai", subject="zhenhuai.worker")
    assert (await seeded.get(f"{BRIEFINGS}/{created['id']}", headers=outsider)).status_code == 404
    assert (await seeded.get(BRIEFINGS, headers=outsider)).json()["items"] == []
    other = {"community": "zhenhuai", "held_on": "2026-03-03"}
    assert (await seeded.post(BRIEFINGS, json=other, headers=admin)).status_code == 422
    worker = tokens.headers("social_worker", community="chaoyang", subject="chaoyang.worker")
    assert (await seeded.post(BRIEFINGS, json=body, headers=worker)).status_code == 403
    county = tokens.headers("county_admin", community=None, subject="county.admin")
    assert (await seeded.get(f"{BRIEFINGS}/{created['id']}", headers=county)).status_code == 200
    bad = {
        "community": "chaoyang",
        "held_on": "2026-03-03",
        "agenda": [{"item_code": "nope", "note": "x"}],
    }
    assert (await seeded.post(BRIEFINGS, json=bad, headers=admin)).status_code == 422


async def test_briefing_list_pages_newest_first(seeded: httpx.AsyncClient, admin: dict[str, str]) -> None:
    for day in range(1, 6):
        body = {"community": "chaoyang", "held_on": f"2026-04-0{day}"}
        assert (await seeded.post(BRIEFINGS, json=body, headers=admin)).status_code == 201
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, object] = {"limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = (await seeded.get(BRIEFINGS, params=params, headers=admin)).json()
        seen += [b["held_on"] for b in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == [f"2026-04-0{d}" for d in range(5, 0, -1)]
