"""The source's stories end to end, over real HTTP through the gateway (issues 5 and 6).

* Doorstep (朝阳代办): a discovery run finds the resident at 滨江花园 6-2-502 with a grade-2
  physical disability as a lead for the severe-disability care subsidy; the grid-6 worker
  converts it into a doorstep case whose checklist comes from the catalogue, collects the
  materials, files it, records the decision and closes it.
* Window (全科社工): a worker of grid 6 accepts an elderly-allowance application for a resident
  of another grid; a phone that retries the same request offline creates it once.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx
import pytest

from .conftest import System, login

pytestmark = pytest.mark.dates

ITEM = "severe-disability-care-subsidy"


def client(system: System, username: str) -> httpx.Client:
    token = login(system, username)
    return httpx.Client(
        base_url=f"{system.url()}/api/v1/proxy", headers={"Authorization": f"Bearer {token}"}, timeout=60
    )


def run_discovery(admin: httpx.Client) -> None:
    # County scope: joins the pass the proxy starts by itself after start-up, if one is running.
    # A run of another scope or kind (one a fuzzing admin started before the story) answers 409
    # with its id: the story waits for it to end, then starts its own.
    deadline = time.monotonic() + 180
    started = admin.post("/discovery/runs", json={"scope": "county"})
    while started.status_code == 409 and started.json().get("code") == "discovery_running":
        _wait_for_run(admin, started.json()["run_id"], deadline, must_complete=False)
        started = admin.post("/discovery/runs", json={"scope": "county"})
    assert started.status_code in (200, 201, 202), started.text
    _wait_for_run(admin, started.json()["id"], deadline, must_complete=True)


def _wait_for_run(admin: httpx.Client, run_id: int, deadline: float, *, must_complete: bool) -> None:
    run: dict[str, Any] = {}
    while time.monotonic() < deadline:
        run = admin.get(f"/discovery/runs/{run_id}").json()
        if run["status"] == "completed":
            return
        if run["status"] != "running":
            assert not must_complete, run
            return
        time.sleep(1)
    raise AssertionError(f"discovery run did not finish: {run}")


def transition(worker: httpx.Client, case: dict[str, Any], to: str, **extra: str) -> dict[str, Any]:
    resp = worker.post(f"/cases/{case['id']}/transitions", json={"to": to, **extra})
    assert resp.status_code == 200, resp.text
    return dict(resp.json())


def test_doorstep_story_from_lead_to_closed_case(system: System) -> None:
    with client(system, "county.admin") as admin:
        run_discovery(admin)
    with client(system, "chaoyang.worker") as worker:
        leads = worker.get("/leads", params={"grid": "chaoyang-g6", "item": ITEM, "limit": 200}).json()["items"]
        story = [
            lead for lead in leads if (lead["compound"], lead["building"], lead["room"]) == ("binjiang", "6", "502")
        ]
        assert story, "the 滨江花园 6-2-502 resident is not a lead"
        lead = story[0]
        assert "残疾" in lead["reason"]
        assert lead["materials"], "a lead lists the materials to bring"

        converted = worker.post(f"/leads/{lead['id']}/conversion", json={"channel": "doorstep"})
        assert converted.status_code == 201, converted.text
        case = worker.get(f"/cases/{converted.json()['case_id']}").json()
        assert case["item_code"] == ITEM
        assert case["channel"] == "doorstep"
        checklist = case["materials"]
        assert [m["name"] for m in checklist] == [m["name"] for m in lead["materials"]]

        case = transition(worker, case, "scheduled")
        case = transition(worker, case, "visited")
        refused = worker.post(f"/cases/{case['id']}/transitions", json={"to": "materials_complete"})
        assert refused.status_code in (409, 422), refused.text  # materials still missing
        for material in checklist:
            marked = worker.put(
                f"/cases/{case['id']}/materials/{material['position']}", json={"collected": "copy_taken"}
            )
            assert marked.status_code == 200, marked.text
        case = transition(worker, case, "materials_complete")
        case = transition(worker, case, "filed", department_ref="和县民政局-2026-0042")
        case = transition(worker, case, "approved")
        case = transition(worker, case, "closed")
        timeline = worker.get(f"/cases/{case['id']}/timeline").json()
        events = timeline["items"] if isinstance(timeline, dict) else timeline
        steps = [e["to_status"] for e in events if e.get("to_status")]
        assert steps[-6:] == ["scheduled", "visited", "materials_complete", "filed", "approved", "closed"]
        again = worker.get("/leads", params={"grid": "chaoyang-g6", "item": ITEM, "limit": 200}).json()["items"]
        assert all(x["id"] != lead["id"] for x in again)  # converted leads leave the to-do list


def test_window_story_cross_grid_case_and_offline_retry_creates_it_once(system: System) -> None:
    with client(system, "chaoyang.worker") as worker:
        residents = worker.get("/residents", params={"grid": "chaoyang-g2", "limit": 200}).json()["items"]
        assert residents, "no residents in grid 2"
        resident = next(r for r in residents if r["grid"] == "chaoyang-g2")
        case_id = str(uuid.uuid4())
        body = {"id": case_id, "resident_id": resident["id"], "item_code": "elderly-allowance", "channel": "window"}
        headers = {"Idempotency-Key": f"phone-1-{case_id}"}
        first = worker.post("/cases", json=body, headers=headers)
        if first.status_code == 409:  # the seeded register may already hold an open case for this resident
            body["item_code"] = "senior-preferential-card"
            headers = {"Idempotency-Key": f"phone-1b-{case_id}"}
            first = worker.post("/cases", json=body, headers=headers)
        assert first.status_code == 201, first.text
        created = first.json()
        assert created["accepted_by"] == "chaoyang.worker"
        assert created["grid"] == "chaoyang-g2"  # the resident's grid routes the follow-up
        replay = worker.post("/cases", json=body, headers=headers)
        assert replay.status_code == 201
        assert replay.headers.get("idempotent-replayed") == "true"
        assert replay.json()["id"] == created["id"]
        listed = worker.get("/cases", params={"limit": 200}).json()["items"]
        assert sum(c["id"] == case_id for c in listed) == 1
