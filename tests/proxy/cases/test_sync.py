"""The field app's change feed: full sync, deltas, tombstones, 410 resync, tenancy."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
import pytest

from doorstep_proxy.cases.sync import purge_tombstones
from doorstep_shared.clock import local_today

from ...support import Tokens
from ..helpers import app_of, worker
from .helpers import BASE, new_case, new_resident

pytestmark = pytest.mark.dates


async def _drain(
    client: httpx.AsyncClient, headers: dict[str, str], since: str | None = None, limit: int = 3
) -> tuple[dict[str, list[Any]], str]:
    got: dict[str, list[Any]] = {k: [] for k in ("residents", "households", "cases", "visits", "demands", "tombstones")}
    cursor = since
    for _ in range(100):
        params: dict[str, Any] = {"limit": limit}
        if cursor:
            params["since"] = cursor
        resp = await client.get(f"{BASE}/sync", params=params, headers=headers)
        assert resp.status_code == 200, resp.text
        page = resp.json()
        for key in got:
            got[key] += page[key]
        cursor = page["cursor"]
        if not page["has_more"]:
            return got, cursor
    raise AssertionError("sync did not finish")


async def test_full_sync_pages_through_everything_and_a_delta_only_the_changes(
    cases: httpx.AsyncClient, tokens: Tokens
) -> None:
    h = worker(tokens)
    residents = [await new_resident(cases, h, room=str(100 + i)) for i in range(4)]
    made = [await new_case(cases, h, r["id"]) for r in residents]
    full, cursor = await _drain(cases, h)
    assert {r["id"] for r in full["residents"]} == {r["id"] for r in residents}
    assert {c["id"] for c in full["cases"]} == {c["id"] for c in made}
    assert len(full["households"]) == 4 and all("id_number_masked" in r for r in full["residents"])
    assert len({c["id"] for c in full["cases"]}) == len(full["cases"])  # no duplicates across pages

    nothing, same = await _drain(cases, h, cursor)
    assert all(not v for v in nothing.values()) and same == cursor

    await cases.post(f"{BASE}/cases/{made[0]['id']}/transitions", json={"to": "scheduled"}, headers=h)
    visit = await cases.post(
        f"{BASE}/visits", json={"case_ids": [made[1]["id"]], "planned_date": local_today().isoformat()}, headers=h
    )
    delta, cursor2 = await _drain(cases, h, cursor)
    assert {c["id"] for c in delta["cases"]} == {made[0]["id"], made[1]["id"]}
    assert [v["id"] for v in delta["visits"]] == [visit.json()["id"]]
    assert delta["residents"] == [] and delta["households"] == []

    await cases.delete(f"{BASE}/visits/{visit.json()['id']}", headers=h)
    await cases.post(
        f"{BASE}/residents/{residents[3]['id']}/removal", json={"status": "moved_away", "reason": "搬迁外地"}, headers=h
    )
    gone, _ = await _drain(cases, h, cursor2)
    assert {(t["entity"], t["id"]) for t in gone["tombstones"]} == {
        ("visit", visit.json()["id"]),
        ("resident", residents[3]["id"]),
    }


async def test_another_communitys_records_never_appear_and_its_cursor_is_gone(
    cases: httpx.AsyncClient, tokens: Tokens
) -> None:
    h = worker(tokens)
    r = await new_resident(cases, h)
    await new_case(cases, h, r["id"])
    other = worker(tokens, "zhenhuai")
    theirs, _their_cursor = await _drain(cases, other)
    assert all(not v for v in theirs.values())
    _, mine = await _drain(cases, h)
    resp = await cases.get(f"{BASE}/sync", params={"since": mine}, headers=other)
    assert resp.status_code == 410 and resp.json()["code"] == "sync_resync_required"
    assert resp.json()["reason"] == "foreign_cursor"


async def test_a_cursor_older_than_the_purged_tombstones_must_resync(cases: httpx.AsyncClient, tokens: Tokens) -> None:
    h = worker(tokens)
    r = await new_resident(cases, h)
    c = await new_case(cases, h, r["id"])
    _, old = await _drain(cases, h)
    v = await cases.post(
        f"{BASE}/visits", json={"case_ids": [c["id"]], "planned_date": local_today().isoformat()}, headers=h
    )
    await cases.delete(f"{BASE}/visits/{v.json()['id']}", headers=h)
    async with app_of(cases).state.sessionmaker() as session:
        assert await purge_tombstones(session, older_than=dt.timedelta(seconds=-60)) == 1
        await session.commit()
    resp = await cases.get(f"{BASE}/sync", params={"since": old}, headers=h)
    assert resp.status_code == 410 and resp.json()["reason"] == "expired_cursor"
    fresh, _ = await _drain(cases, h)  # pages of 3 through records older than the purge: no 410
    assert [x["id"] for x in fresh["cases"]] == [c["id"]]
    bad = await cases.get(f"{BASE}/sync", params={"since": "not-a-cursor"}, headers=h)
    assert bad.status_code == 422
