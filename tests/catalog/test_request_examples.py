"""The catalog's documented request examples, sent as they are, get their documented answers
(tests/test_request_examples.py checks that every example validates; these are also sent)."""

from __future__ import annotations

import httpx

from doorstep_catalog.eligibility.schemas import EligibilityRequest
from doorstep_catalog.items.schemas import CategoryCreate, ItemCreate
from doorstep_catalog.search.schemas import AliasFromMiss
from doorstep_catalog.tips.schemas import TipCreate

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
