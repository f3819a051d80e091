"""Search ids, open reports, misses and alias-from-miss, on each database."""

from __future__ import annotations

import asyncio

import httpx
from fastapi import FastAPI

ITEMS = "/api/v1/catalog/items"
MISSES = "/api/v1/catalog/search/misses"


async def _search(client: httpx.AsyncClient, headers: dict[str, str], q: str) -> dict[str, object]:
    resp = await client.get(ITEMS, params={"q": q}, headers=headers)
    assert resp.status_code == 200, resp.text
    return dict(resp.json())


async def test_issue_table_answers_right_through_the_api(seeded: httpx.AsyncClient, worker: dict[str, str]) -> None:
    for q, codes in [
        ("残疾人两项补贴", {"hard-disability-living-subsidy", "severe-disability-care-subsidy"}),
        ("cjrlxbt", {"hard-disability-living-subsidy", "severe-disability-care-subsidy"}),
        ("老人80岁有什么补贴", {"elderly-allowance"}),
        ("gaoningbutie", {"elderly-allowance"}),
        ("高令补贴", {"elderly-allowance"}),
        ("高齡補貼", {"elderly-allowance"}),
        ("退休了怎么领养老金", {"pension-claim"}),
        ("社保卡丢了", {"social-security-card"}),
        ("低保怎么申请", {"dibao"}),
        ("失业了", {"unemployment-registration", "unemployment-insurance-benefit"}),
        ("db", {"dibao"}),
    ]:
        items = (await _search(seeded, worker, q))["items"]
        assert items and items[0]["code"] in codes, (q, items[:2])  # type: ignore[index]


async def test_misses_list_unopened_and_empty_searches_of_the_admins_community(
    seeded: httpx.AsyncClient, worker: dict[str, str], admin: dict[str, str], tokens: object
) -> None:
    nothing = await _search(seeded, worker, "qqqq")
    assert nothing["items"] == [] and nothing["search_id"]
    await _search(seeded, worker, "qqqq")
    phone = await _search(seeded, worker, "帮13912345678查高龄补贴")
    opened = await _search(seeded, worker, "低保")
    page_two = await seeded.get(ITEMS, params={"q": "补贴", "limit": 1}, headers=worker)
    later = await seeded.get(ITEMS, params={"q": "补贴", "cursor": page_two.json()["next_cursor"]}, headers=worker)
    assert later.json()["search_id"] is None  # only a search's first page is recorded
    resp = await seeded.post(
        "/api/v1/catalog/search/opened", json={"search_id": opened["search_id"], "code": "dibao"}, headers=worker
    )
    assert resp.status_code == 204, resp.text

    listed = (await seeded.get(MISSES, params={"days": 7}, headers=admin)).json()["misses"]
    by_query = {m["query"]: m for m in listed}
    assert by_query["qqqq"]["searches"] == 2 and by_query["qqqq"]["found_nothing"] == 2
    assert "低保" not in by_query
    assert phone["items"]
    assert "帮139****5678查高龄补贴" in by_query  # never the number in clear
    assert by_query["补贴"]["not_opened"] == 1

    other = tokens.headers("community_admin", community="zhenhuai", subject="zhenhuai.admin")  # type: ignore[attr-defined]
    assert (await seeded.get(MISSES, headers=other)).json()["misses"] == []
    assert (await seeded.get(MISSES, headers=worker)).status_code == 403


async def test_an_admin_turns_a_miss_into_an_alias_in_one_call(
    seeded: httpx.AsyncClient, worker: dict[str, str], admin: dict[str, str]
) -> None:
    await _search(seeded, worker, "夕阳红卡")
    resp = await seeded.post(
        "/api/v1/catalog/search/misses/alias",
        json={"query": "夕阳红卡", "item": "senior-preferential-card"},
        headers=admin,
    )
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["alias"] == "夕阳红卡" and "夕阳红卡" in body["aliases"] and body["resolved"] == 1
    assert (await _search(seeded, worker, "夕阳红卡"))["items"][0]["code"] == "senior-preferential-card"  # type: ignore[index]
    versions = (await seeded.get(f"{ITEMS}/senior-preferential-card/versions", headers=worker)).json()
    assert len(versions["items"] if isinstance(versions, dict) else versions) == 2  # an honest edit, with a version
    again = await seeded.post(
        "/api/v1/catalog/search/misses/alias",
        json={"query": "夕阳红卡", "item": "senior-preferential-card"},
        headers=admin,
    )
    assert again.status_code == 200 and again.json()["version"] == body["version"]  # nothing changes twice


async def test_bad_search_inputs_are_problems_naming_the_field(
    seeded: httpx.AsyncClient, worker: dict[str, str], admin: dict[str, str]
) -> None:
    unknown = await seeded.post(
        "/api/v1/catalog/search/opened", json={"search_id": "0" * 32, "code": "dibao"}, headers=worker
    )
    assert unknown.status_code == 404
    assert unknown.headers["content-type"].startswith("application/problem+json")
    bad = await seeded.post("/api/v1/catalog/search/opened", json={"search_id": "x", "code": "dibao"}, headers=worker)
    assert bad.status_code == 422 and "search_id" in bad.text
    masked = await seeded.post(
        "/api/v1/catalog/search/misses/alias", json={"query": "13912345678", "item": "dibao"}, headers=admin
    )
    assert masked.status_code == 422 and "body.query" in masked.text
    punctuation = await seeded.post(
        "/api/v1/catalog/search/misses/alias", json={"query": "！！", "item": "dibao"}, headers=admin
    )
    assert punctuation.status_code == 422
    missing = await seeded.post(
        "/api/v1/catalog/search/misses/alias", json={"query": "夕阳红", "item": "no-such-item"}, headers=admin
    )
    assert missing.status_code == 404
    assert (await seeded.get(MISSES, params={"days": 0}, headers=admin)).status_code == 422


async def test_concurrent_searches_are_each_recorded_and_answered_after_it(
    seeded: httpx.AsyncClient, catalog_app: FastAPI, worker: dict[str, str], admin: dict[str, str]
) -> None:
    log = catalog_app.state.search_log
    before = log.batches
    answers = await asyncio.gather(*(_search(seeded, worker, f"zzzz{i % 5}") for i in range(40)))
    ids = [a["search_id"] for a in answers]
    assert len(set(ids)) == 40 and all(ids)
    assert 1 <= log.batches - before < 40  # group commits: fewer transactions than searches
    # Each answer came after its event was stored: an open reported at once is taken.
    opened = await seeded.post(
        "/api/v1/catalog/search/opened", json={"search_id": ids[-1], "code": "dibao"}, headers=worker
    )
    assert opened.status_code == 204, opened.text
    listed = {m["query"]: m for m in (await seeded.get(MISSES, headers=admin)).json()["misses"]}
    # Every search is a miss but the one opened, unless it found nothing.
    last_found = bool(answers[-1]["items"])
    assert [listed[f"zzzz{i}"]["searches"] for i in range(5)] == [8, 8, 8, 8, 8 - last_found]
