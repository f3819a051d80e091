"""The demo's upcoming sessions are upcoming whatever the day and hour of seeding."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import httpx
import pytest
import time_machine
from fastapi import FastAPI
from sqlmodel import select

from doorstep_shared.clock import SHANGHAI, utcnow
from doorstep_stations.bookings.models import ServiceSession

from ..helpers import seed_demo

pytestmark = pytest.mark.dates

# Monday to Sunday, each at its first and its last minutes (16:00 UTC is local midnight).
MONDAY = dt.datetime(2026, 11, 30, tzinfo=SHANGHAI)
INSTANTS = [MONDAY + dt.timedelta(days=day, minutes=minutes) for day in range(7) for minutes in (5, 23 * 60 + 55)]


async def _upcoming(app: FastAPI) -> Counter[int]:
    """Sessions per service that start more than a day from now; fails on any that do not."""
    async with app.state.sessionmaker() as session:
        rows = (await session.exec(select(ServiceSession))).all()
    horizon = utcnow() + dt.timedelta(days=1)
    counts: Counter[int] = Counter()
    for row in rows:
        if row.starts_at > horizon:
            counts[row.service_id] += 1
    return counts


@pytest.mark.parametrize("instant", INSTANTS, ids=lambda i: i.strftime("%a-%H%M"))
async def test_seeded_sessions_start_more_than_a_day_after_seeding(
    stations: httpx.AsyncClient, stations_app: FastAPI, instant: dt.datetime
) -> None:
    with time_machine.travel(instant, tick=False):
        await seed_demo(stations_app)
        async with stations_app.state.sessionmaker() as session:
            rows = (await session.exec(select(ServiceSession))).all()
        assert rows, "the demo seeds sessions"
        assert all(r.starts_at > utcnow() + dt.timedelta(days=1) for r in rows)
        counts = await _upcoming(stations_app)
    assert set(counts.values()) == {4}, counts
    assert len(counts) == 5  # 朝阳's classes and appointment services


async def test_a_demo_loaded_last_week_is_topped_up_with_upcoming_sessions(
    stations: httpx.AsyncClient, stations_app: FastAPI
) -> None:
    first = dt.datetime(2026, 12, 3, 20, 0, tzinfo=SHANGHAI)  # a Thursday evening
    with time_machine.travel(first, tick=False):
        await seed_demo(stations_app)
    with time_machine.travel(first + dt.timedelta(days=9), tick=False):
        await seed_demo(stations_app)
        await seed_demo(stations_app)  # and again: nothing twice
        counts = await _upcoming(stations_app)
    assert set(counts.values()) == {4}, counts
