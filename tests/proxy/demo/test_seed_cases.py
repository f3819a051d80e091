"""Demo cases: the cross-grid window case, a completed disability case, the story resident left alone."""

from __future__ import annotations

import datetime as dt

import httpx
import pytest
import time_machine

from doorstep_proxy.seed import seed
from doorstep_shared.clock import SHANGHAI, utcnow

from ...support import Tokens
from ..cases.helpers import BASE
from ..helpers import app_of, worker

pytestmark = pytest.mark.dates


async def test_demo_cases_tell_the_window_and_doorstep_stories(proxy: httpx.AsyncClient, tokens: Tokens) -> None:
    # One day's story: the seed plans today's round, so the clock stands still while it is told
    # (the date matrix's last minute of a year would otherwise ask for the next day's round).
    with time_machine.travel(utcnow(), tick=False):
        await _the_window_and_doorstep_stories(proxy, tokens)


async def _the_window_and_doorstep_stories(proxy: httpx.AsyncClient, tokens: Tokens) -> None:
    app = app_of(proxy)
    for _ in range(2):
        async with app.state.sessionmaker() as session:
            await seed(session, app.state.pii)
            await session.commit()
    h = worker(tokens)
    window = (await proxy.get(f"{BASE}/cases?accepted_by=chaoyang.g7.worker", headers=h)).json()["items"]
    assert len(window) == 1 and window[0]["grid"] == "chaoyang-g2" and window[0]["item_code"] == "elderly-allowance"
    assert window[0]["channel"] == "window" and window[0]["assigned_grid"] == "chaoyang-g2"
    done = (await proxy.get(f"{BASE}/cases?item_code=severe-disability-care-subsidy&status=closed", headers=h)).json()
    case = done["items"][0]
    assert case["channel"] == "doorstep" and case["materials_complete"] and case["department_ref"]
    timeline = (await proxy.get(f"{BASE}/cases/{case['id']}/timeline", headers=h)).json()
    assert [e["to_status"] for e in timeline] == [
        "accepted",
        "scheduled",
        "visited",
        "materials_complete",
        "filed",
        "approved",
        "closed",
    ]
    story = (await proxy.get(f"{BASE}/residents?compound=binjiang&building=6&room=502", headers=h)).json()["items"]
    assert story and (await proxy.get(f"{BASE}/cases?resident_id={story[0]['id']}", headers=h)).json()["items"] == []
    figures = (await proxy.get(f"{BASE}/case-figures?community=chaoyang&from=2020-01-01", headers=h)).json()
    assert figures["cases_accepted"] >= 7 and figures["doorstep_services"] >= 1 and figures["consultations"] > 0
    assert sum(v["accepted"] for v in figures["by_item"].values()) == figures["cases_accepted"]
    day = (await proxy.get(f"{BASE}/my/day", headers=h)).json()
    assert day["visits"] and day["visits"][0]["cases"][0]["materials_missing"]


async def test_a_demo_loaded_days_ago_still_has_a_round_of_visits_today(
    proxy: httpx.AsyncClient, tokens: Tokens
) -> None:
    app = app_of(proxy)
    loaded = dt.datetime(2026, 12, 3, 21, 0, tzinfo=SHANGHAI)  # a Thursday evening
    for at in (loaded, loaded + dt.timedelta(days=4), loaded + dt.timedelta(days=4, hours=1)):
        with time_machine.travel(at, tick=False):
            async with app.state.sessionmaker() as session:
                await seed(session, app.state.pii)
                await session.commit()
    with time_machine.travel(loaded + dt.timedelta(days=4, hours=2), tick=False):
        day = (await proxy.get(f"{BASE}/my/day", headers=worker(tokens))).json()
    assert day["date"] == "2026-12-07"
    assert len(day["visits"]) == 1  # the scheduled case's visit for that day, once
    assert day["visits"][0]["cases"][0]["status"] == "scheduled"
