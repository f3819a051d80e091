"""Visits: planning several cases of one household, check-in/out, outcomes, my day and my week."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid

import httpx
import pytest
from sqlalchemy import select
from sqlmodel import col

from doorstep_proxy.cases.models import ProxyCase
from doorstep_proxy.versions import next_row_versions
from doorstep_shared.clock import local_today
from doorstep_shared.db import write_intent

from ...support import Tokens
from ..helpers import app_of, id_number, worker
from .helpers import BASE, new_case, new_resident

pytestmark = pytest.mark.dates


async def test_a_visit_covers_a_households_cases_and_done_moves_them_to_visited(
    cases: httpx.AsyncClient, tokens: Tokens
) -> None:
    h = worker(tokens)
    husband = await new_resident(cases, h)
    wife = await new_resident(
        cases, h, name="林秀英", id_number=id_number(dt.date(1950, 3, 7), "female"), phone="13900001111"
    )
    assert husband["household_id"] == wife["household_id"]
    c1 = await new_case(cases, h, husband["id"], item_code="severe-disability-care-subsidy", channel="doorstep")
    c2 = await new_case(cases, h, wife["id"], channel="doorstep")
    resp = await cases.post(
        f"{BASE}/visits",
        json={
            "case_ids": [c1["id"], c2["id"]],
            "planned_date": local_today().isoformat(),
            "window_start": "09:00",
            "window_end": "10:00",
        },
        headers=h,
    )
    assert resp.status_code == 201, resp.text
    visit = resp.json()
    assert {c["status"] for c in visit["cases"]} == {"scheduled"} and visit["worker"] == "chaoyang.worker"
    url = f"{BASE}/visits/{visit['id']}"
    assert (await cases.post(f"{url}/check-out", json={"outcome": "come_back"}, headers=h)).status_code == 422
    checked = await cases.post(f"{url}/check-in", json={}, headers=h)
    assert checked.status_code == 200 and checked.json()["status"] == "checked_in"
    assert (await cases.post(f"{url}/check-in", json={}, headers=h)).status_code == 409
    done = await cases.post(f"{url}/check-out", json={"outcome": "done", "notes": "材料已收齐一半"}, headers=h)
    assert done.status_code == 200 and done.json()["outcome"] == "done"
    assert {c["status"] for c in done.json()["cases"]} == {"visited"}
    assert (await cases.delete(url, headers=h)).status_code == 409


async def test_cases_of_two_households_cannot_share_a_visit(cases: httpx.AsyncClient, tokens: Tokens) -> None:
    h = worker(tokens)
    a = await new_resident(cases, h)
    b = await new_resident(cases, h, room="101")
    c1 = await new_case(cases, h, a["id"])
    c2 = await new_case(cases, h, b["id"])
    resp = await cases.post(
        f"{BASE}/visits", json={"case_ids": [c1["id"], c2["id"]], "planned_date": local_today().isoformat()}, headers=h
    )
    assert resp.status_code == 422


async def test_my_day_orders_by_compound_and_building_with_masked_residents_and_missing_materials(
    cases: httpx.AsyncClient, tokens: Tokens
) -> None:
    h = worker(tokens)
    today = local_today()
    plan = [("zhongyang", "3"), ("binjiang", "9"), ("binjiang", "2")]
    for compound, building in plan:
        r = await new_resident(cases, h, compound=compound, building=building, name="欧阳明华")
        c = await new_case(cases, h, r["id"], channel="doorstep")
        resp = await cases.post(
            f"{BASE}/visits", json={"case_ids": [c["id"]], "planned_date": today.isoformat()}, headers=h
        )
        assert resp.status_code == 201, resp.text
    r = await new_resident(cases, h, room="1101")
    c = await new_case(cases, h, r["id"])
    tomorrow = today + dt.timedelta(days=1)
    await cases.post(f"{BASE}/visits", json={"case_ids": [c["id"]], "planned_date": tomorrow.isoformat()}, headers=h)
    day = (await cases.get(f"{BASE}/my/day", headers=h)).json()
    assert [(v["resident"]["compound"], v["resident"]["building"]) for v in day["visits"]] == [
        ("binjiang", "2"),
        ("binjiang", "9"),
        ("zhongyang", "3"),
    ]
    first = day["visits"][0]
    assert first["resident"]["name_masked"] != "欧阳明华" and "*" in first["resident"]["name_masked"]
    assert "13812345678" not in str(day)
    assert first["cases"][0]["materials_missing"] == ["居民身份证复印件", "户口簿复印件", "本人银行卡（社保卡）复印件"]
    week = (await cases.get(f"{BASE}/my/week?date={today.isoformat()}", headers=h)).json()
    assert len(week["days"]) == 7 and sum(len(d["visits"]) for d in week["days"]) == (4 if tomorrow.weekday() else 3)
    other = (await cases.get(f"{BASE}/my/day", headers=worker(tokens, "zhenhuai"))).json()
    assert other["visits"] == []
    foreign = await cases.get(f"{BASE}/visits/{first['id']}", headers=worker(tokens, "zhenhuai"))
    assert foreign.status_code == 404


async def test_a_visit_window_with_an_offset_is_422_naming_the_field(cases: httpx.AsyncClient, tokens: Tokens) -> None:
    """Windows are times on the community's clock (documented HH:MM[:SS]): an offset is refused,
    on create and on update alike, rather than silently dropped or compared with naive times."""
    h = worker(tokens)
    resident = await new_resident(cases, h)
    case = await new_case(cases, h, resident["id"])
    visit = {"case_ids": [case["id"]], "planned_date": local_today().isoformat()}
    resp = await cases.post(f"{BASE}/visits", json={**visit, "window_start": "09:30+08:00"}, headers=h)
    assert resp.status_code == 422, resp.text
    assert resp.headers["content-type"] == "application/problem+json"
    assert [e["field"] for e in resp.json()["errors"]] == ["body.window_start"]
    made = await cases.post(f"{BASE}/visits", json={**visit, "window_start": "09:30"}, headers=h)
    assert made.status_code == 201, made.text
    assert made.json()["window_start"] == "09:30:00"
    url = f"{BASE}/visits/{made.json()['id']}"
    etag = made.headers["etag"]
    resp = await cases.patch(url, json={"window_end": "10:30Z"}, headers={**h, "If-Match": etag})
    assert resp.status_code == 422 and [e["field"] for e in resp.json()["errors"]] == ["body.window_end"]


async def test_visit_updates_need_a_fresh_etag(cases: httpx.AsyncClient, tokens: Tokens) -> None:
    h = worker(tokens)
    r = await new_resident(cases, h)
    c = await new_case(cases, h, r["id"])
    resp = await cases.post(
        f"{BASE}/visits", json={"case_ids": [c["id"]], "planned_date": local_today().isoformat()}, headers=h
    )
    etag = resp.headers["etag"]
    url = f"{BASE}/visits/{resp.json()['id']}"
    ok = await cases.patch(url, json={"window_start": "14:00", "window_end": "15:00"}, headers={**h, "If-Match": etag})
    assert ok.status_code == 200
    stale = await cases.patch(url, json={"notes": "改约"}, headers={**h, "If-Match": etag})
    assert stale.status_code == 412 and stale.json()["current_version"] == 2
    bad = await cases.patch(url, json={"window_start": "16:00"}, headers=h)
    assert bad.status_code == 422


async def test_a_check_out_and_an_update_of_its_case_at_once_both_succeed(
    cases: httpx.AsyncClient, tokens: Tokens
) -> None:
    """A check-out locks the visit's cases before it takes a change number, as a case's own update
    does (the case, then the number): in the other order the two deadlocked on PostgreSQL and
    one of them answered 503."""
    h = worker(tokens)
    resident = await new_resident(cases, h)
    case = await new_case(cases, h, resident["id"], channel="doorstep")
    planned = {"case_ids": [case["id"]], "planned_date": local_today().isoformat()}
    visit = (await cases.post(f"{BASE}/visits", json=planned, headers=h)).json()
    assert (await cases.post(f"{BASE}/visits/{visit['id']}/check-in", json={}, headers=h)).status_code == 200
    app = app_of(cases)
    token = write_intent.set(True)
    try:
        async with app.state.sessionmaker() as other:  # another request updating the case
            await other.execute(select(ProxyCase).where(col(ProxyCase.id) == uuid.UUID(case["id"])).with_for_update())
            check_out = asyncio.create_task(
                cases.post(f"{BASE}/visits/{visit['id']}/check-out", json={"outcome": "done"}, headers=h)
            )
            await asyncio.sleep(0.3)  # the check-out reaches the case's lock and waits there
            async with asyncio.timeout(10):
                await next_row_versions(other)  # then the other update takes its change number
            await other.commit()
    finally:
        write_intent.reset(token)
    done = await check_out
    assert done.status_code == 200, done.text
    after = await cases.get(f"{BASE}/cases/{case['id']}", headers=h)
    assert after.json()["status"] == "visited"


async def test_a_visit_planned_while_its_case_is_updated_waits_instead_of_deadlocking(
    cases: httpx.AsyncClient, tokens: Tokens
) -> None:
    """Planning a visit locks its cases before it takes a change number, as a case's own update
    does: in the other order the two deadlocked on PostgreSQL and one of them answered 503."""
    h = worker(tokens)
    resident = await new_resident(cases, h)
    case = await new_case(cases, h, resident["id"], channel="doorstep")
    app = app_of(cases)
    token = write_intent.set(True)
    try:
        async with app.state.sessionmaker() as other:  # another request updating the case
            await other.execute(select(ProxyCase).where(col(ProxyCase.id) == uuid.UUID(case["id"])).with_for_update())
            planned = {"case_ids": [case["id"]], "planned_date": local_today().isoformat()}
            plan = asyncio.create_task(cases.post(f"{BASE}/visits", json=planned, headers=h))
            await asyncio.sleep(0.3)  # the plan reaches the case's lock and waits there
            async with asyncio.timeout(10):
                await next_row_versions(other)  # then the other update takes its change number
            await other.commit()
    finally:
        write_intent.reset(token)
    made = await plan
    assert made.status_code == 201, made.text
    after = await cases.get(f"{BASE}/cases/{case['id']}", headers=h)
    assert after.json()["status"] == "scheduled"
