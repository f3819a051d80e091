"""Leads end to end: a run finds the story resident, explains why, excludes what is received or
already a case, and a lead converts into a doorstep case with the item's materials."""

from __future__ import annotations

import datetime as dt

import httpx
import pytest

from ...support import Tokens
from ..helpers import admin, create, with_compounds, worker
from .catalog import seed_snapshot
from .helpers import BASE, add_resident, county_admin, prime, run

pytestmark = pytest.mark.dates

CARE = "severe-disability-care-subsidy"


async def test_story_resident_is_a_lead_for_the_care_subsidy_and_converts_to_a_case(
    proxy: httpx.AsyncClient, tokens: Tokens
) -> None:
    await with_compounds(proxy)
    prime(proxy, seed_snapshot())
    story = await create(proxy, worker(tokens))  # 滨江花园 6-2-502, grade-2 physical, local hukou
    done = await run(proxy, county_admin(tokens))
    assert done["status"] == "completed" and done["items_done"] == done["items_total"] > 30
    assert done["fallback_items"] == []

    resp = await proxy.get(f"{BASE}/leads", params={"grid": "chaoyang-g6", "item": CARE}, headers=worker(tokens))
    assert resp.status_code == 200, resp.text
    (lead,) = resp.json()["items"]
    assert lead["resident_id"] == story["id"] and lead["verdict"] == "eligible" and lead["status"] == "new"
    assert lead["reason"] == "本县户籍，残疾等级不高于2级，未领取重度残疾人护理补贴"
    assert "居民身份证复印件" in [m["name"] for m in lead["materials"]]

    # the same answer as the explanation endpoint
    expl = await proxy.get(f"{BASE}/residents/{story['id']}/eligibility", headers=worker(tokens))
    by_code = {r["code"]: r for r in expl.json()["results"]}
    assert by_code[CARE]["status"] == "eligible" and by_code[CARE]["receives"] is False

    conv = await proxy.post(f"{BASE}/leads/{lead['id']}/conversion", json={}, headers=worker(tokens))
    assert conv.status_code == 201, conv.text
    body = conv.json()
    assert body["lead"]["status"] == "converted" and body["case_status"] == "accepted"
    assert "残疾人证复印件" in "".join(body["materials"]) or len(body["materials"]) >= 5
    case = await proxy.get(f"{BASE}/cases/{body['case_id']}", headers=worker(tokens))
    assert case.status_code == 200, case.text

    # the open case now excludes it: a second run does not bring the lead back
    await run(proxy, county_admin(tokens))
    again = await proxy.get(f"{BASE}/leads", params={"item": CARE}, headers=worker(tokens))
    assert again.json()["items"] == []
    status = await proxy.get(f"{BASE}/leads/{lead['id']}", headers=worker(tokens))
    assert status.json()["status"] == "converted"


async def test_benefit_received_excludes_and_runs_are_idempotent(proxy: httpx.AsyncClient, tokens: Tokens) -> None:
    await with_compounds(proxy)
    app = prime(proxy, seed_snapshot())
    old = dt.date(1940, 5, 1)
    receives = await add_resident(app, birth=old, hukou_local=True, benefits=("elderly-allowance",))
    lacks = await add_resident(app, birth=old, hukou_local=True)
    unknown = await add_resident(app, birth=old)  # hukou unknown
    first = await run(proxy, county_admin(tokens))
    second = await run(proxy, county_admin(tokens))
    assert first["eligible"] == second["eligible"] > 0
    resp = await proxy.get(
        f"{BASE}/leads", params={"item": "elderly-allowance", "verdict": "all"}, headers=admin(tokens)
    )
    leads = {(x["resident_id"], x["verdict"]) for x in resp.json()["items"]}
    assert leads == {(str(lacks), "eligible"), (str(unknown), "unknown")}
    assert str(receives) not in {x["resident_id"] for x in resp.json()["items"]}
    elig = next(x for x in resp.json()["items"] if x["verdict"] == "eligible")
    assert elig["reason"] == "年满80周岁，本县户籍，未领取高龄补贴"

    survey = await proxy.get(f"{BASE}/leads/needs-survey", headers=admin(tokens))
    groups = {g["fact"]: g for g in survey.json()["groups"]}
    assert groups["hukou_local"]["residents"] >= 1 and "elderly-allowance" in groups["hukou_local"]["items"]


async def test_other_communities_leads_are_invisible(proxy: httpx.AsyncClient, tokens: Tokens) -> None:
    await with_compounds(proxy)
    app = prime(proxy, seed_snapshot())
    await add_resident(app, birth=dt.date(1940, 1, 1), hukou_local=True)
    await run(proxy, county_admin(tokens))
    mine = await proxy.get(f"{BASE}/leads", headers=admin(tokens))
    assert mine.json()["items"]
    other = await proxy.get(f"{BASE}/leads", headers=admin(tokens, "zhenhuai"))
    assert other.json()["items"] == []
    lead_id = mine.json()["items"][0]["id"]
    assert (await proxy.get(f"{BASE}/leads/{lead_id}", headers=admin(tokens, "zhenhuai"))).status_code == 404
    refused = await proxy.post(f"{BASE}/discovery/runs", json={"scope": "chaoyang"}, headers=admin(tokens, "zhenhuai"))
    assert refused.status_code == 403
    assert (
        await proxy.post(f"{BASE}/discovery/runs", json={"scope": "county"}, headers=worker(tokens))
    ).status_code == 403


async def test_after_seeding_the_story_resident_is_a_lead_in_chaoyang_g6(
    proxy: httpx.AsyncClient, tokens: Tokens
) -> None:
    from doorstep_proxy.seed import seed

    app = prime(proxy, seed_snapshot())
    async with app.state.sessionmaker() as session:
        await seed(session, app.state.pii)
        await session.commit()
    await run(proxy, county_admin(tokens))
    resp = await proxy.get(f"{BASE}/leads", params={"worker": "me", "item": CARE, "limit": 200}, headers=worker(tokens))
    assert resp.status_code == 200, resp.text
    story = [
        x
        for x in resp.json()["items"]
        if (x["compound"], x["building"], x["unit"], x["room"]) == ("binjiang", "6", "2", "502")
    ]
    assert story and story[0]["grid"] == "chaoyang-g6" and story[0]["verdict"] == "eligible"
    figures = await proxy.get(f"{BASE}/leads/figures", params={"community": "chaoyang"}, headers=worker(tokens))
    assert figures.status_code == 200 and figures.json()["found"] > 0


async def test_needs_survey_groups_open_unknown_leads_by_each_missing_fact(
    proxy: httpx.AsyncClient, tokens: Tokens
) -> None:
    from .catalog import snapshot_with

    await with_compounds(proxy)
    app = prime(
        proxy,
        snapshot_with(
            {
                "both": {"and": [{"var": "hukou_local"}, {"var": "living_alone"}]},
                "local": {"var": "hukou_local"},
                "poor": {"var": "dibao"},
            }
        ),
    )
    born = dt.date(1950, 1, 1)
    two_missing = await add_resident(app, birth=born, hukou_local=None, living_alone=None, dibao=True)
    declines = await add_resident(app, birth=born, hukou_local=None, living_alone=True, dibao=False)
    await add_resident(app, birth=born, hukou_local=True, living_alone=None, dibao=None)
    await add_resident(app, birth=born, grid="chaoyang-g1", hukou_local=None, living_alone=False, dibao=False)
    await run(proxy, county_admin(tokens))
    leads = (await proxy.get(f"{BASE}/leads?item=both&verdict=all", headers=admin(tokens))).json()["items"]
    declined = next(x for x in leads if x["resident_id"] == str(declines))
    resp = await proxy.post(f"{BASE}/leads/{declined['id']}/declined", json={"reason": "不需要"}, headers=admin(tokens))
    assert resp.status_code == 200, resp.text

    async def groups(query: str = "") -> dict[str, tuple[int, int, list[str]]]:
        resp = await proxy.get(f"{BASE}/leads/needs-survey{query}", headers=admin(tokens))
        assert resp.status_code == 200, resp.text
        return {g["fact"]: (g["leads"], g["residents"], g["items"]) for g in resp.json()["groups"]}

    # a lead missing two facts counts under both; a resident with two such leads once; the
    # declined lead no longer counts, though its resident still does (another open lead)
    assert await groups() == {
        "hukou_local": (4, 3, ["both", "local"]),
        "living_alone": (2, 2, ["both"]),
        "dibao": (1, 1, ["poor"]),
    }
    assert (await groups("?grid=chaoyang-g6"))["hukou_local"] == (3, 2, ["both", "local"])
    assert str(two_missing) in {x["resident_id"] for x in leads}
