"""Opening hours: the tailoring shop's story, exceptions, validation."""

from __future__ import annotations

import datetime as dt
import re

import httpx
import pytest
from fastapi import FastAPI

from doorstep_stations.hours import schedule as h

from ...support import Tokens
from ..helpers import keeper, local, seed_demo

pytestmark = pytest.mark.dates

API = "/api/v1/stations/stations"


async def _state(client: httpx.AsyncClient, headers: dict[str, str], at: dt.datetime) -> dict:
    r = await client.get(
        f"{API}/shuxiang/hours",
        headers=headers,
        params={"service": "tailoring", "at": at.isoformat()},
    )
    assert r.status_code == 200, r.text
    return r.json()["state"]


async def test_tailoring_shop_moves_from_thursdays_to_weekdays_and_closes_for_national_day(
    stations: httpx.AsyncClient, stations_app: FastAPI, tokens: Tokens
) -> None:
    await seed_demo(stations_app)
    hk = keeper(tokens)
    # Wipe the seeded tailoring rules and tell the story through the API.
    r = await stations.get(f"{API}/shuxiang/hours", headers=hk, params={"service": "tailoring"})
    for rule in r.json()["rules"]:
        if rule["service_code"] == "tailoring":
            d = await stations.delete(f"{API}/shuxiang/hours/rules/{rule['id']}", headers=hk)
            assert d.status_code == 204
    for exc in r.json()["exceptions"]:
        await stations.delete(f"{API}/shuxiang/hours/exceptions/{exc['id']}", headers=hk)

    r = await stations.post(
        f"{API}/shuxiang/hours/rules",
        headers=hk,
        json={"service_code": "tailoring", "weekdays": [3], "opens": "09:00", "closes": "17:00"},
    )
    assert r.status_code == 201, r.text
    # 2026-06-01 is a Monday; 2026-06-04 a Thursday.
    assert not (await _state(stations, hk, local(2026, 6, 1, 10)))["open_now"]
    state = await _state(stations, hk, local(2026, 6, 1, 10))
    assert state["next_opens_at"].startswith("2026-06-04T09:00:00+08:00")
    assert (await _state(stations, hk, local(2026, 6, 4, 10)))["open_now"]

    # From 15 June on: Monday to Friday, all day.
    r = await stations.post(
        f"{API}/shuxiang/hours/rules",
        headers=hk,
        json={
            "service_code": "tailoring",
            "weekdays": [0, 1, 2, 3, 4],
            "opens": "08:30",
            "closes": "17:30",
            "effective_from": "2026-06-15",
        },
    )
    assert r.status_code == 201, r.text
    assert len(r.json()) == 5
    assert not (await _state(stations, hk, local(2026, 6, 8, 10)))["open_now"]  # Monday before
    assert (await _state(stations, hk, local(2026, 6, 15, 8, 45)))["open_now"]  # Monday after
    state = await _state(stations, hk, local(2026, 6, 18, 17, 15))  # Thursday, new hours
    assert state["open_now"] and state["open_until"].startswith("2026-06-18T17:30:00+08:00")

    # Closed for the National Day holiday.
    r = await stations.post(
        f"{API}/shuxiang/hours/exceptions",
        headers=hk,
        json={
            "service_code": "tailoring",
            "kind": "closed",
            "start_date": "2026-10-01",
            "end_date": "2026-10-07",
            "reason": "国庆节",
        },
    )
    assert r.status_code == 201, r.text
    state = await _state(stations, hk, local(2026, 10, 2, 10))
    assert not state["open_now"]
    assert state["next_opens_at"].startswith("2026-10-08T08:30:00+08:00")
    # "open at T" near midnight UTC is judged in Shanghai: 2026-10-08 01:00 UTC = 09:00 local.
    at = dt.datetime(2026, 10, 8, 1, 0, tzinfo=dt.UTC)
    assert (await _state(stations, hk, at))["open_now"]


async def test_overlapping_or_backwards_hours_are_rejected(
    stations: httpx.AsyncClient, stations_app: FastAPI, tokens: Tokens
) -> None:
    await seed_demo(stations_app)
    hk = keeper(tokens)
    body = {"weekdays": [0], "opens": "11:00", "closes": "13:00"}
    r = await stations.post(f"{API}/shuxiang/hours/rules", headers=hk, json=body)
    assert r.status_code == 422
    assert r.json()["code"] == "hours_overlap"
    r = await stations.post(
        f"{API}/shuxiang/hours/rules",
        headers=hk,
        json={"weekdays": [5], "opens": "12:00", "closes": "09:00"},
    )
    assert r.status_code == 422 and r.json()["code"] == "hours_end_before_start"
    r = await stations.post(
        f"{API}/shuxiang/hours/exceptions",
        headers=hk,
        json={"kind": "closed", "start_date": "2026-10-07", "end_date": "2026-10-01"},
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.end_date"
    r = await stations.post(
        f"{API}/shuxiang/hours/exceptions",
        headers=hk,
        json={"kind": "open", "start_date": "2026-10-01", "end_date": "2026-10-01"},
    )
    assert r.status_code == 422
    r = await stations.post(
        f"{API}/shuxiang/hours/rules",
        headers=hk,
        json={"weekdays": [9], "opens": "08:00", "closes": "09:00"},
    )
    assert r.status_code == 422
    # another station's hours are not the keeper's to change
    r = await stations.post(
        f"{API}/zhongyang/hours/rules",
        headers=hk,
        json={"weekdays": [6], "opens": "08:00", "closes": "09:00"},
    )
    assert r.status_code == 403


def saturday_opening(**changes: str) -> dict[str, str]:
    """An extra opening on Saturday 5 December 2026, 09:00–11:00 (fields overridable)."""
    return {
        "kind": "open",
        "start_date": "2026-12-05",
        "end_date": "2026-12-05",
        "opens": "09:00",
        "closes": "11:00",
        **changes,
    }


async def test_extra_opening_on_a_saturday_shows_in_the_week(
    stations: httpx.AsyncClient, stations_app: FastAPI, tokens: Tokens
) -> None:
    await seed_demo(stations_app)
    hk = keeper(tokens)
    r = await stations.post(
        f"{API}/shuxiang/hours/exceptions",
        headers=hk,
        json=saturday_opening(),
    )
    assert r.status_code == 201
    r = await stations.get(f"{API}/shuxiang/hours", headers=hk, params={"at": "2026-12-05T10:00:00+08:00"})
    body = r.json()
    assert body["state"]["open_now"]
    assert body["week"][0] == {
        "date": "2026-12-05",
        "windows": [{"opens": "09:00:00", "closes": "11:00:00"}],
    }
    r = await stations.get(f"{API}/shuxiang/hours", headers=hk, params={"at": "2026-12-05T10:00:00"})
    assert r.status_code == 422


def test_closed_window_cuts_a_day_and_next_opening_skips_closed_days() -> None:
    rules = [h.WeeklyRule(d, dt.time(9), dt.time(17)) for d in range(5)]
    exc = [
        h.DatedException("closed", dt.date(2026, 12, 1), dt.date(2026, 12, 1), dt.time(12), dt.time(14)),
        h.DatedException("closed", dt.date(2026, 12, 2), dt.date(2026, 12, 3)),
    ]
    schedule = h.Schedule(rules, exc)
    assert h.intervals_on(schedule, dt.date(2026, 12, 1)) == [
        (dt.time(9), dt.time(12)),
        (dt.time(14), dt.time(17)),
    ]
    state = h.state_at(schedule, local(2026, 12, 1, 17, 30))
    assert not state.open_now
    assert state.next_opens_at == local(2026, 12, 4, 9)
    assert h.state_at(h.Schedule([], []), local(2026, 12, 1, 9)).next_opens_at is None


def _documented_pattern(app: FastAPI, model: str, field: str) -> str:
    return str(app.openapi()["components"]["schemas"][model]["properties"][field]["pattern"])


async def test_hours_are_local_times_read_back_as_documented(
    stations: httpx.AsyncClient, stations_app: FastAPI, tokens: Tokens
) -> None:
    await seed_demo(stations_app)
    hk = keeper(tokens)
    r = await stations.post(
        f"{API}/shuxiang/hours/rules", headers=hk, json={"weekdays": [6], "opens": "09:30", "closes": "10:15:30"}
    )
    assert r.status_code == 201, r.text
    pattern = _documented_pattern(stations_app, "HoursRuleRead", "opens")
    assert pattern == _documented_pattern(stations_app, "Window", "closes")
    assert [(rule["opens"], rule["closes"]) for rule in r.json()] == [("09:30:00", "10:15:30")]
    r = await stations.get(f"{API}/shuxiang/hours", headers=hk, params={"at": "2026-12-06T10:00:00+08:00"})
    assert r.status_code == 200, r.text
    body = r.json()
    times = [t for rule in body["rules"] for t in (rule["opens"], rule["closes"])]
    times += [t for day in body["week"] for w in day["windows"] for t in (w["opens"], w["closes"])]
    assert "09:30:00" in times
    assert all(re.fullmatch(pattern, t) for t in times), times


async def test_hours_with_an_offset_or_off_the_pattern_are_422_naming_the_field(
    stations: httpx.AsyncClient, stations_app: FastAPI, tokens: Tokens
) -> None:
    await seed_demo(stations_app)
    hk = keeper(tokens)
    for opens in ("09:30+08:00", "09:30Z", "9:30", "09:30:00.1234567", 34200):
        r = await stations.post(
            f"{API}/shuxiang/hours/rules", headers=hk, json={"weekdays": [6], "opens": opens, "closes": "11:00"}
        )
        assert r.status_code == 422, (opens, r.text)
        assert [e["field"] for e in r.json()["errors"]] == ["body.opens"], opens
    r = await stations.post(
        f"{API}/shuxiang/hours/exceptions",
        headers=hk,
        json=saturday_opening(closes="11:00+08:00"),
    )
    assert r.status_code == 422 and [e["field"] for e in r.json()["errors"]] == ["body.closes"]
