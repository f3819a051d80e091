"""Collect materials at the door with poor signal, end to end through the gateway (issue 22).

The grid-6 worker signs in and syncs; opens a doorstep case for a resident of their grid with a
visit; photographs a material, the upload cut off mid-chunk and resumed from the byte the server
has (the download is the same picture without its GPS); ticks it. Then the phone goes offline:
the visit checked in and out with notes, the other materials ticked and the case moved on are
queued and replayed in one ``POST /proxy/batch`` when the signal returns (again: nothing
changes). A delta sync from the cursor taken before the queue carries exactly those changes.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from doorstep_shared.clock import local_today

from ..proxy.files.uploads import photo_with_gps
from .conftest import System, login
from .test_material_files import assert_same_pixels_without_gps, upload_with_a_cut
from .test_stories import client

pytestmark = pytest.mark.dates

API = "/api/v1/proxy"
GRID = "chaoyang-g6"
ITEMS = ("elderly-allowance", "senior-preferential-card", "pension-claim")


def drain(worker: httpx.Client, since: str | None) -> tuple[str, dict[str, list[Any]]]:
    """The sync feed (the worker's default scope) from ``since`` to its end: (cursor, records)."""
    got: dict[str, list[Any]] = {}
    while True:
        page = worker.get("/sync", params={"limit": 1000, **({"since": since} if since else {})})
        assert page.status_code == 200, page.text
        body = page.json()
        for key, value in body.items():
            if isinstance(value, list):
                got.setdefault(key, []).extend(value)
        since = body["cursor"]
        if not body["has_more"]:
            assert since is not None
            return since, got


def open_doorstep_case(worker: httpx.Client) -> dict[str, Any]:
    """A new doorstep case with at least two materials for a resident of the worker's grid."""
    residents = worker.get("/residents", params={"grid": GRID, "limit": 50}).json()["items"]
    for resident in residents[::-1]:  # from the end: the story residents are near the front
        for item in ITEMS:
            body = {"id": str(uuid.uuid4()), "resident_id": resident["id"], "item_code": item, "channel": "doorstep"}
            made = worker.post("/cases", json=body, headers={"Idempotency-Key": str(uuid.uuid4())})
            if made.status_code == 201 and len(made.json()["materials"]) >= 2:
                return dict(made.json())
    raise AssertionError("no resident of grid 6 could get a doorstep case with two materials")


def test_collect_materials_at_the_door_with_poor_signal(system: System) -> None:
    token = login(system, "chaoyang.worker")
    with client(system, "chaoyang.worker") as worker:
        cursor, _ = drain(worker, None)  # the phone's copy (yesterday evening)
        cursor, _ = drain(worker, cursor)  # the morning's delta

        case = open_doorstep_case(worker)
        planned = worker.post(
            "/visits",
            json={"id": str(uuid.uuid4()), "case_ids": [case["id"]], "planned_date": local_today().isoformat()},
            headers={"Idempotency-Key": str(uuid.uuid4())},
        )
        assert planned.status_code == 201, planned.text
        visit = planned.json()
        assert worker.get(f"/cases/{case['id']}").json()["status"] == "scheduled"

        # At the door: a photo of the first material on one bar of signal.
        data = photo_with_gps(640, 480)
        done = upload_with_a_cut(system, worker, token, f"/cases/{case['id']}/materials/1/files", data)
        assert_same_pixels_without_gps(worker.get(system.url() + done["content_url"]), data)
        ticked = worker.put(f"/cases/{case['id']}/materials/1", json={"collected": "copy_taken"})
        assert ticked.status_code == 200, ticked.text
        cursor, _ = drain(worker, cursor)  # the last sync before the signal went

        # Offline: the queue of the rest of the visit, each POST with its own key.
        queue: list[dict[str, Any]] = [
            {"method": "POST", "path": f"{API}/visits/{visit['id']}/check-in", "body": {}},
            {
                "method": "POST",
                "path": f"{API}/visits/{visit['id']}/check-out",
                "body": {"outcome": "done", "notes": "材料已收齐，老人签字确认"},
            },
            *(
                {
                    "method": "PUT",
                    "path": f"{API}/cases/{case['id']}/materials/{m['position']}",
                    "body": {"collected": "original_seen"},
                }
                for m in case["materials"][1:]
            ),
            {"method": "POST", "path": f"{API}/cases/{case['id']}/transitions", "body": {"to": "materials_complete"}},
        ]
        for op in queue:
            if op["method"] == "POST":
                op["headers"] = {"Idempotency-Key": str(uuid.uuid4())}
        batch = {"operations": queue}
        size = {"Doorstep-Batch-Size": str(len(queue))}

        replayed = worker.post("/batch", json=batch, headers=size)
        assert replayed.status_code == 200, replayed.text
        results = replayed.json()["results"]
        assert [r["status"] for r in results] == [200] * len(queue), results
        moved = worker.get(f"/cases/{case['id']}").json()
        assert moved["status"] == "materials_complete"
        assert all(m["collected"] for m in moved["materials"])

        again = worker.post("/batch", json=batch, headers=size)  # the answer was lost: sent again
        assert again.status_code == 200, again.text
        for op, result in zip(queue, again.json()["results"], strict=True):
            if op["method"] == "POST":  # the keyed operations answer their first response again
                assert result["replayed"] and result["status"] == 200, result
            else:  # a tick on a case moved on is refused: nothing changes
                assert result["status"] == 409 and result["body"]["code"] == "materials_locked", result
        assert worker.get(f"/cases/{case['id']}").json()["version"] == moved["version"]

        _, delta = drain(worker, cursor)
        assert [c["id"] for c in delta["cases"]] == [case["id"]]
        assert delta["cases"][0]["status"] == "materials_complete"
        assert [v["id"] for v in delta["visits"]] == [visit["id"]]
        assert delta["visits"][0]["status"] == "done" and delta["visits"][0]["check_in_at"]
        assert {k: v for k, v in delta.items() if k not in ("cases", "visits") and v} == {}
