"""The proxy's documented request examples, sent as they are, get their documented answers (the
ids in a path come from the resource an earlier example created); tests/test_request_examples.py
checks that every example validates."""

from __future__ import annotations

import httpx

from doorstep_proxy.cases.schemas import CaseAssign, CaseCreate, CaseDueOverride, MaterialMark, VisitCreate, VisitUpdate
from doorstep_proxy.demands.schemas import DemandAnswer, DemandClose, DemandCreate
from doorstep_proxy.discovery.schemas import LeadContacted, LeadConversion, LeadDeclined, RunCreate
from doorstep_proxy.ledger.schemas import (
    CompoundUpdate,
    ResidentCreate,
    ResidentLookup,
    ResidentRemove,
    ResidentUpdate,
    RevealRequest,
)
from doorstep_proxy.workers.schemas import WorkerFieldProfile

from ..request_examples import example_of
from ..support import Tokens
from .cases.conftest import catalogue
from .discovery.catalog import seed_snapshot
from .discovery.helpers import prime, run, wait_runs
from .helpers import BASE, admin, app_of, enrol, with_compounds, worker


async def test_discovery_run_example_starts_a_run(proxy: httpx.AsyncClient, tokens: Tokens) -> None:
    app = prime(proxy, seed_snapshot())
    resp = await proxy.post(f"{BASE}/discovery/runs", json=example_of(RunCreate), headers=admin(tokens))
    assert resp.status_code == 202, resp.text
    await wait_runs(app)


async def test_resident_examples_register_find_reveal_and_remove_a_resident(
    proxy: httpx.AsyncClient, tokens: Tokens
) -> None:
    await with_compounds(proxy)
    created = await proxy.post(f"{BASE}/residents", json=example_of(ResidentCreate), headers=worker(tokens))
    assert created.status_code == 201, created.text
    resident = created.json()["id"]
    found = await proxy.post(f"{BASE}/residents/lookup", json=example_of(ResidentLookup), headers=worker(tokens))
    assert found.status_code == 200, found.text
    assert resident in found.text
    reveal = await proxy.post(
        f"{BASE}/residents/{resident}/reveal", json=example_of(RevealRequest), headers=worker(tokens)
    )
    assert reveal.status_code == 200, reveal.text
    assert reveal.json()["id_number"] == example_of(ResidentCreate)["id_number"]
    removed = await proxy.post(
        f"{BASE}/residents/{resident}/removal", json=example_of(ResidentRemove), headers=worker(tokens)
    )
    assert removed.status_code == 200, removed.text


async def test_demand_examples_log_and_answer_a_demand(proxy: httpx.AsyncClient, tokens: Tokens) -> None:
    logged = await proxy.post(f"{BASE}/demands", json=example_of(DemandCreate), headers=worker(tokens))
    assert logged.status_code == 201, logged.text
    answered = await proxy.post(
        f"{BASE}/demands/{logged.json()['id']}/answer", json=example_of(DemandAnswer), headers=worker(tokens)
    )
    assert answered.status_code == 200, answered.text
    assert answered.json()["status"] == "answered"


async def test_worker_example_sets_a_field_profile(proxy: httpx.AsyncClient, tokens: Tokens) -> None:
    await enrol(proxy, "chaoyang.worker", "chaoyang-g6")
    body = example_of(WorkerFieldProfile)
    resp = await proxy.put(f"{BASE}/workers/chaoyang.worker", json=body, headers=admin(tokens))
    assert resp.status_code == 200, resp.text
    assert (resp.json()["grids"], resp.json()["status"]) == (["chaoyang-g6"], body["status"])


async def test_case_examples_open_assign_tick_and_plan_a_visit_for_the_example_resident(
    proxy: httpx.AsyncClient, tokens: Tokens
) -> None:
    """The case bodies as documented, with the ids of the resident and demand made just before."""
    await with_compounds(proxy)
    app_of(proxy).state.catalog.prime(catalogue())
    h = worker(tokens)
    await enrol(proxy, "chaoyang.worker", "chaoyang-g6")
    resident = (await proxy.post(f"{BASE}/residents", json=example_of(ResidentCreate), headers=h)).json()["id"]
    demand = (await proxy.post(f"{BASE}/demands", json=example_of(DemandCreate), headers=h)).json()["id"]
    opened = await proxy.post(
        f"{BASE}/cases", json={**example_of(CaseCreate), "resident_id": resident, "demand_id": demand}, headers=h
    )
    assert opened.status_code == 201, opened.text
    case = opened.json()
    assigned = await proxy.post(f"{BASE}/cases/{case['id']}/assignment", json=example_of(CaseAssign), headers=h)
    assert assigned.status_code == 200, assigned.text
    position = case["materials"][0]["position"]
    ticked = await proxy.put(
        f"{BASE}/cases/{case['id']}/materials/{position}", json=example_of(MaterialMark), headers=h
    )
    assert ticked.status_code == 200, ticked.text
    due = await proxy.put(
        f"{BASE}/cases/{case['id']}/due-date", json=example_of(CaseDueOverride), headers=admin(tokens)
    )
    assert due.status_code == 200, due.text
    planned = await proxy.post(f"{BASE}/visits", json={**example_of(VisitCreate), "case_ids": [case["id"]]}, headers=h)
    assert planned.status_code == 201, planned.text
    moved = await proxy.patch(
        f"{BASE}/visits/{planned.json()['id']}",
        json=example_of(VisitUpdate),
        headers={**h, "If-Match": planned.headers["ETag"]},
    )
    assert moved.status_code == 200, moved.text


async def test_update_and_close_examples_change_what_they_are_sent_to(proxy: httpx.AsyncClient, tokens: Tokens) -> None:
    await with_compounds(proxy)
    h = worker(tokens)
    compound = await proxy.get(f"{BASE}/compounds/binjiang", headers=admin(tokens))
    resp = await proxy.patch(
        f"{BASE}/compounds/binjiang",
        json=example_of(CompoundUpdate),
        headers={**admin(tokens), "If-Match": compound.headers["ETag"]},
    )
    assert resp.status_code == 200, resp.text
    created = await proxy.post(f"{BASE}/residents", json=example_of(ResidentCreate), headers=h)
    resp = await proxy.patch(
        f"{BASE}/residents/{created.json()['id']}",
        json=example_of(ResidentUpdate),
        headers={**h, "If-Match": created.headers["ETag"]},
    )
    assert resp.status_code == 200, resp.text
    demand = await proxy.post(f"{BASE}/demands", json=example_of(DemandCreate), headers=h)
    resp = await proxy.post(f"{BASE}/demands/{demand.json()['id']}/closure", json=example_of(DemandClose), headers=h)
    assert resp.status_code == 200, resp.text


async def test_lead_examples_contact_convert_and_decline_the_example_residents_leads(
    proxy: httpx.AsyncClient, tokens: Tokens
) -> None:
    await with_compounds(proxy)
    prime(proxy, seed_snapshot())
    resident = (await proxy.post(f"{BASE}/residents", json=example_of(ResidentCreate), headers=worker(tokens))).json()
    await run(proxy, admin(tokens), scope=example_of(RunCreate)["scope"])
    found = await proxy.get(f"{BASE}/leads", params={"verdict": "all"}, headers=worker(tokens))
    leads = [x for x in found.json()["items"] if x["resident_id"] == resident["id"]]
    assert {x["item_code"] for x in leads} >= {"elderly-allowance"}, leads
    first, second = sorted(leads, key=lambda x: x["item_code"] != "elderly-allowance")[:2]
    at = f"{BASE}/leads/{first['id']}"
    resp = await proxy.post(f"{at}/contacted", json=example_of(LeadContacted), headers=worker(tokens))
    assert resp.status_code == 200, resp.text
    resp = await proxy.post(f"{at}/conversion", json=example_of(LeadConversion), headers=worker(tokens))
    assert resp.status_code == 201, resp.text
    resp = await proxy.post(
        f"{BASE}/leads/{second['id']}/declined", json=example_of(LeadDeclined), headers=worker(tokens)
    )
    assert resp.status_code == 200, resp.text
