from __future__ import annotations

import httpx
import pytest

from ..helpers import create_item

pytestmark = pytest.mark.dates

ITEMS = "/api/v1/catalog/items"
CHANGES = "/api/v1/catalog/changes"


async def _edit(client: httpx.AsyncClient, headers: dict[str, str], code: str, **changes: object) -> httpx.Response:
    etag = (await client.get(f"{ITEMS}/{code}", headers=headers)).headers["etag"]
    resp = await client.patch(f"{ITEMS}/{code}", json=changes, headers={**headers, "If-Match": etag})
    assert resp.status_code == 200, resp.text
    return resp


async def test_each_published_edit_is_a_version_and_old_text_stays_readable(
    seeded: httpx.AsyncClient, admin: dict[str, str], worker: dict[str, str]
) -> None:
    await _edit(seeded, admin, "elderly-allowance", reason="提高标准", summary="标准调整为每月100元（示例）")
    await _edit(seeded, admin, "elderly-allowance", reason="补充材料", materials=[{"name": "户口簿复印件"}])
    history = (await seeded.get(f"{ITEMS}/elderly-allowance/versions", headers=worker)).json()
    assert [v["number"] for v in history["items"]] == [3, 2, 1]
    latest = history["items"][0]
    assert latest["reason"] == "补充材料"
    assert latest["changed_by"] == "chaoyang.admin"
    assert [c["field"] for c in latest["changed_fields"]] == ["materials"]
    v2 = history["items"][1]["changed_fields"]
    assert v2 == [
        {
            "field": "summary",
            "label": "简介",
            "before": v2[0]["before"],
            "after": "标准调整为每月100元（示例）",
        }
    ]
    old = (await seeded.get(f"{ITEMS}/elderly-allowance/versions/1", headers=worker)).json()
    assert old["item"]["summary"].startswith("本县户籍年满80周岁")
    current = (await seeded.get(f"{ITEMS}/elderly-allowance", headers=worker)).json()
    assert current["published_version"] == 3
    assert (await seeded.get(f"{ITEMS}/elderly-allowance/versions/9", headers=worker)).status_code == 404


async def test_a_noop_edit_makes_no_version(seeded: httpx.AsyncClient, admin: dict[str, str]) -> None:
    current = (await seeded.get(f"{ITEMS}/dibao", headers=admin)).json()
    resp = await _edit(seeded, admin, "dibao", reason="无变化", summary=current["summary"])
    assert resp.json()["version"] == current["version"]
    history = (await seeded.get(f"{ITEMS}/dibao/versions", headers=admin)).json()
    assert len(history["items"]) == 1


async def test_draft_edits_make_no_version_until_published(seeded: httpx.AsyncClient, admin: dict[str, str]) -> None:
    await create_item(seeded, admin, "draft-one", status="draft")
    await _edit(seeded, admin, "draft-one", reason="草稿修改", summary="改了")
    assert (await seeded.get(f"{ITEMS}/draft-one/versions", headers=admin)).json()["items"] == []
    await _edit(seeded, admin, "draft-one", reason="发布", status="published")
    versions = (await seeded.get(f"{ITEMS}/draft-one/versions", headers=admin)).json()["items"]
    assert [(v["number"], v["kind"]) for v in versions] == [(1, "created")]


async def test_changes_feed_by_cursor_and_by_date(
    seeded: httpx.AsyncClient, admin: dict[str, str], worker: dict[str, str]
) -> None:
    start = (await seeded.get(CHANGES, params={"limit": 200}, headers=worker)).json()
    assert len(start["items"]) == 68 and not start["has_more"]
    cursor = start["next_cursor"]
    assert (await seeded.get(CHANGES, params={"since": cursor}, headers=worker)).json()["items"] == []
    await _edit(seeded, admin, "pension-claim", reason="延迟退休", conditions="按渐进式延迟退休规定")
    await create_item(seeded, admin, "new-one", name="新事项")
    feed = (await seeded.get(CHANGES, params={"since": cursor}, headers=worker)).json()
    assert [(c["item_code"], c["kind"]) for c in feed["items"]] == [
        ("pension-claim", "updated"),
        ("new-one", "created"),
    ]
    assert feed["items"][0]["changed_fields"][0]["field"] == "conditions"
    assert feed["items"][0]["reason"] == "延迟退休"
    after = (await seeded.get(CHANGES, params={"since": feed["next_cursor"]}, headers=worker)).json()
    assert after["items"] == [] and after["next_cursor"] == feed["next_cursor"]
    by_date = await seeded.get(CHANGES, params={"since": "2000-01-01"}, headers=worker)
    assert len(by_date.json()["items"]) == 70
    future = await seeded.get(CHANGES, params={"since": "2999-01-01T00:00:00+08:00"}, headers=worker)
    assert future.json()["items"] == []
    paged = (await seeded.get(CHANGES, params={"limit": 50}, headers=worker)).json()
    assert paged["has_more"] and len(paged["items"]) == 50
    for bad in ("2024-13-45", "not-a-cursor", "2024-01-01Tzz"):
        assert (await seeded.get(CHANGES, params={"since": bad}, headers=worker)).status_code == 422


async def test_retiring_keeps_the_item_readable_with_its_status(
    seeded: httpx.AsyncClient, admin: dict[str, str], worker: dict[str, str]
) -> None:
    await _edit(seeded, admin, "heating-cooling-aid", reason="政策到期", status="retired")
    item = (await seeded.get(f"{ITEMS}/heating-cooling-aid", headers=worker)).json()
    assert item["status"] == "retired"
    listed = (await seeded.get(ITEMS, params={"limit": 100}, headers=worker)).json()["items"]
    assert "heating-cooling-aid" not in {i["code"] for i in listed}
    retired = (await seeded.get(ITEMS, params={"status": "retired"}, headers=worker)).json()["items"]
    assert [i["code"] for i in retired] == ["heating-cooling-aid"]
    feed = (await seeded.get(CHANGES, params={"since": "2000-01-01", "limit": 200}, headers=worker)).json()
    assert feed["items"][-1]["kind"] == "retired"
    assert feed["items"][-1]["changed_fields"][0] == {
        "field": "status",
        "label": "状态",
        "before": "published",
        "after": "retired",
    }
    await _edit(seeded, admin, "heating-cooling-aid", reason="恢复", status="published")
    versions = (await seeded.get(f"{ITEMS}/heating-cooling-aid/versions", headers=worker)).json()
    assert [v["kind"] for v in versions["items"]] == ["republished", "retired", "created"]
