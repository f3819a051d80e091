from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
import pytest

from doorstep_shared.clock import local_today

from ..helpers import item_body

pytestmark = pytest.mark.dates

EVALUATE = "/api/v1/catalog/eligibility/evaluate"
ITEMS = "/api/v1/catalog/items"


async def _results(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    facts: dict[str, Any],
    items: list[str] | None = None,
) -> dict[str, dict[str, Any]]:
    body: dict[str, Any] = {"facts": facts}
    if items is not None:
        body["items"] = items
    resp = await client.post(EVALUATE, json=body, headers=headers)
    assert resp.status_code == 200, resp.text
    return {r["code"]: r for r in resp.json()["results"]}


async def test_an_82_year_old_local_resident_gets_the_elderly_allowance_with_reasons(
    seeded: httpx.AsyncClient, worker: dict[str, str]
) -> None:
    results = await _results(seeded, worker, {"age": 82, "hukou_local": True})
    allowance = results["elderly-allowance"]
    assert allowance["status"] == "eligible"
    assert allowance["reasons"] == ["年满80周岁", "本县户籍"]
    assert results["centenarian-allowance"]["status"] == "not_eligible"
    assert results["centenarian-allowance"]["reasons"] == ["未满100周岁"]


async def test_a_missing_fact_makes_the_answer_unknown_and_names_the_fact(
    seeded: httpx.AsyncClient, worker: dict[str, str]
) -> None:
    results = await _results(seeded, worker, {"age": 85}, ["elderly-allowance"])
    allowance = results["elderly-allowance"]
    assert allowance["status"] == "unknown"
    assert allowance["missing_facts"] == ["hukou_local"]
    assert allowance["missing_labels"] == ["本县户籍"]
    young = await _results(seeded, worker, {"age": 50}, ["elderly-allowance"])
    assert young["elderly-allowance"]["status"] == "not_eligible"  # false wins over unknown


async def test_a_grade_two_physical_disability_qualifies_for_the_care_subsidy(
    seeded: httpx.AsyncClient, worker: dict[str, str]
) -> None:
    facts = {
        "age": 52,
        "gender": "male",
        "hukou_local": True,
        "disability_type": "physical",
        "disability_grade": 2,
        "dibao": False,
    }
    results = await _results(seeded, worker, facts)
    assert results["severe-disability-care-subsidy"]["status"] == "eligible"
    assert results["hard-disability-living-subsidy"]["status"] == "not_eligible"
    assert results["hard-disability-living-subsidy"]["reasons"] == ["未享受低保"]
    assert results["disability-fuel-subsidy"]["status"] == "eligible"
    grade3_mental = await _results(
        seeded,
        worker,
        {"hukou_local": True, "disability_type": "mental", "disability_grade": 3},
        ["severe-disability-care-subsidy"],
    )
    assert grade3_mental["severe-disability-care-subsidy"]["status"] == "eligible"


async def test_4050_and_pension_rules_use_gender_age_and_employment(
    seeded: httpx.AsyncClient, worker: dict[str, str]
) -> None:
    woman = {"age": 45, "gender": "female", "employment_status": "flexible", "hukou_local": True}
    man = {"age": 45, "gender": "male", "employment_status": "flexible", "hukou_local": True}
    assert (await _results(seeded, worker, woman, ["subsidy-4050"]))["subsidy-4050"]["status"] == "eligible"
    assert (await _results(seeded, worker, man, ["subsidy-4050"]))["subsidy-4050"]["status"] == "not_eligible"
    retiree = {"age": 61, "gender": "male", "pension_insured": True, "benefits": ["pension-claim"]}
    results = await _results(seeded, worker, retiree, ["pension-claim", "pension-face-check"])
    assert results["pension-claim"]["status"] == "eligible"
    assert results["pension-face-check"]["reasons"] == ["已享受到龄领取养老金"]


async def test_birth_date_stands_in_for_age(seeded: httpx.AsyncClient, worker: dict[str, str]) -> None:
    today = local_today()
    born = dt.date(today.year - 80, today.month, 1)
    results = await _results(
        seeded, worker, {"birth_date": born.isoformat(), "hukou_local": True}, ["elderly-allowance"]
    )
    assert results["elderly-allowance"]["status"] == "eligible"


async def test_items_without_a_rule_are_listed_apart(seeded: httpx.AsyncClient, worker: dict[str, str]) -> None:
    resp = await seeded.post(EVALUATE, json={"facts": {}}, headers=worker)
    body = resp.json()
    assert "party-transfer" in body["without_rule"]
    assert all(r["status"] == "unknown" for r in body["results"])
    assert len(body["results"]) + len(body["without_rule"]) == 68


async def test_bad_facts_are_422(seeded: httpx.AsyncClient, worker: dict[str, str]) -> None:
    for facts in (
        {"age": -1},
        {"gender": "x"},
        {"disability_grade": 7},
        {"shoe_size": 42},
        {"age": "old"},
    ):
        resp = await seeded.post(EVALUATE, json={"facts": facts}, headers=worker)
        assert resp.status_code == 422, facts
    resp = await seeded.post(EVALUATE, json={"facts": {}, "items": ["no-such-item"]}, headers=worker)
    assert resp.status_code == 422


async def test_rules_are_validated_on_save_with_the_position(seeded: httpx.AsyncClient, admin: dict[str, str]) -> None:
    bad_rules = {
        "unknown_fact": {"and": [{">=": [{"var": "age"}, 80]}, {"==": [{"var": "shoe_size"}, 42]}]},
        "wrong_type": {"and": [{"var": "hukou_local"}, {">=": [{"var": "age"}, "eighty"]}]},
        "unknown_operator": {"and": [{"var": "hukou_local"}, {"some": [1, 2]}]},
    }
    positions = {
        "unknown_fact": "/and/1/==/0/var",
        "wrong_type": "/and/1/>=/1",
        "unknown_operator": "/and/1/some",
    }
    for code, rule in bad_rules.items():
        resp = await seeded.post(ITEMS, json=item_body("rule-item", eligibility_rule=rule), headers=admin)
        assert resp.status_code == 422
        problem = resp.json()
        assert problem["code"] == "invalid_rule"
        assert problem["errors"][0]["code"] == code
        assert problem["errors"][0]["position"] == positions[code]
        assert positions[code] in problem["detail"]
    ok = await seeded.post(
        ITEMS,
        json=item_body("rule-item", eligibility_rule={"<": [{"var": "children_count"}, 3]}),
        headers=admin,
    )
    assert ok.status_code == 201


async def test_a_rule_can_be_removed_and_changed(seeded: httpx.AsyncClient, admin: dict[str, str]) -> None:
    etag = (await seeded.get(f"{ITEMS}/centenarian-allowance", headers=admin)).headers["etag"]
    resp = await seeded.patch(
        f"{ITEMS}/centenarian-allowance",
        json={"reason": "规则待定", "eligibility_rule": None},
        headers={**admin, "If-Match": etag},
    )
    assert resp.status_code == 200 and resp.json()["eligibility_rule"] is None
    body = (await seeded.post(EVALUATE, json={"facts": {"age": 101}}, headers=admin)).json()
    assert "centenarian-allowance" in body["without_rule"]
    bad = await seeded.patch(
        f"{ITEMS}/centenarian-allowance",
        json={"reason": "写错", "eligibility_rule": {">=": [{"var": "age"}]}},
        headers={**admin, "If-Match": resp.headers["etag"]},
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["position"] == "/>="


async def test_disability_type_null_means_no_disability_and_leaving_it_out_means_unknown(
    seeded: httpx.AsyncClient, worker: dict[str, str]
) -> None:
    """The vocabulary's "null if none", read exactly as the proxy reads a resident without a
    disability on record: an explicit null is a known "none", a fact left out is unknown."""
    item = ["severe-disability-care-subsidy"]
    none = await _results(seeded, worker, {"hukou_local": True, "disability_type": None}, item)
    assert none[item[0]]["status"] == "not_eligible"
    assert none[item[0]]["missing_facts"] == []
    left_out = await _results(seeded, worker, {"hukou_local": True}, item)
    assert left_out[item[0]]["status"] == "unknown"
    assert "disability_grade" in left_out[item[0]]["missing_facts"]
    type_only = await _results(seeded, worker, {"hukou_local": True, "disability_type": "physical"}, item)
    assert type_only[item[0]]["missing_facts"] == ["disability_grade"]  # a type without a grade
