"""The catalog's documented request examples, sent as they are, get their documented answers
(tests/test_request_examples.py checks that every example validates; these are also sent)."""

from __future__ import annotations

import httpx

from doorstep_catalog.eligibility.schemas import EligibilityRequest
from doorstep_catalog.items.schemas import CategoryCreate, CategoryUpdate, ItemCreate, ItemUpdate
from doorstep_catalog.search.schemas import AliasFromMiss, SearchOpened
from doorstep_catalog.tips.schemas import BriefingCreate, TipCreate, TipHide

from ..request_examples import example_of

BASE = "/api/v1/catalog"


async def test_eligibility_example_answers_with_a_verdict_per_item(
    seeded: httpx.AsyncClient, worker: dict[str, str]
) -> None:
    example = example_of(EligibilityRequest)
    resp = await seeded.post(f"{BASE}/eligibility/evaluate", json=example, headers=worker)
    assert resp.status_code == 200, resp.text
    verdicts = {r["code"]: r["status"] for r in resp.json()["results"]}
    assert set(verdicts) == set(example["items"])
    assert verdicts["elderly-allowance"] == "eligible"  # 82, local hukou


async def test_category_example_creates_the_category(catalog: httpx.AsyncClient, admin: dict[str, str]) -> None:
    example = example_of(CategoryCreate)
    resp = await catalog.post(f"{BASE}/categories", json=example, headers=admin)
    assert resp.status_code == 201, resp.text
    assert resp.json()["name"] == example["name"]


async def test_item_example_creates_a_draft_item(seeded: httpx.AsyncClient, admin: dict[str, str]) -> None:
    example = example_of(ItemCreate)
    resp = await seeded.post(f"{BASE}/items", json=example, headers=admin)
    assert resp.status_code == 201, resp.text
    assert (resp.json()["code"], resp.json()["status"]) == (example["code"], "draft")


async def test_tip_example_adds_a_tip_to_a_demo_item(seeded: httpx.AsyncClient, worker: dict[str, str]) -> None:
    resp = await seeded.post(f"{BASE}/items/elderly-allowance/tips", json=example_of(TipCreate), headers=worker)
    assert resp.status_code == 201, resp.text


async def test_alias_example_makes_the_query_an_alias(seeded: httpx.AsyncClient, admin: dict[str, str]) -> None:
    example = example_of(AliasFromMiss)
    resp = await seeded.post(f"{BASE}/search/misses/alias", json=example, headers=admin)
    assert resp.status_code == 200, resp.text
    assert resp.json()["item"] == example["item"] and example["query"] in resp.json()["aliases"]


async def test_update_examples_change_the_category_and_item_they_are_sent_to(
    seeded: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    etag = (await seeded.get(f"{BASE}/items/elderly-allowance", headers=admin)).headers["ETag"]
    resp = await seeded.patch(
        f"{BASE}/items/elderly-allowance", json=example_of(ItemUpdate), headers={**admin, "If-Match": etag}
    )
    assert resp.status_code == 200, resp.text
    assert resp.json()["promised_days"] == example_of(ItemUpdate)["promised_days"]
    created = await seeded.post(f"{BASE}/categories", json=example_of(CategoryCreate), headers=admin)
    resp = await seeded.patch(
        f"{BASE}/categories/{created.json()['code']}",
        json=example_of(CategoryUpdate),
        headers={**admin, "If-Match": created.headers["ETag"]},
    )
    assert resp.status_code == 200, resp.text


async def test_briefing_example_records_a_briefing_with_the_tip_and_hide_example_hides_it(
    seeded: httpx.AsyncClient, worker: dict[str, str], admin: dict[str, str]
) -> None:
    tip = (await seeded.post(f"{BASE}/items/elderly-allowance/tips", json=example_of(TipCreate), headers=worker)).json()
    briefing = {**example_of(BriefingCreate), "tip_ids": [tip["id"]]}
    resp = await seeded.post(f"{BASE}/briefings", json=briefing, headers=admin)
    assert resp.status_code == 201, resp.text
    assert [t["id"] for t in resp.json()["tips"]] == [tip["id"]]
    resp = await seeded.post(f"{BASE}/tips/{tip['id']}/hide", json=example_of(TipHide), headers=admin)
    assert resp.status_code == 200, resp.text
    assert resp.json()["hidden"] is True


async def test_search_opened_example_reports_the_item_opened_from_a_search(
    seeded: httpx.AsyncClient, worker: dict[str, str]
) -> None:
    example = example_of(SearchOpened)
    found = await seeded.get(f"{BASE}/items", params={"q": "高龄补贴"}, headers=worker)
    assert example["code"] in [i["code"] for i in found.json()["items"]]
    resp = await seeded.post(
        f"{BASE}/search/opened", json={**example, "search_id": found.json()["search_id"]}, headers=worker
    )
    assert resp.status_code == 204, resp.text
