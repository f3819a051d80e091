"""Bookings: atomic seats, waitlist, cancellation, minimum participants, check-in, tenancy."""

from __future__ import annotations

import asyncio
import datetime as dt

import httpx
import pytest
from fastapi import FastAPI

from doorstep_shared.clock import local_today, utcnow
from doorstep_stations.bookings import service as bookings
from doorstep_stations.bookings.models import Booking

from ...support import Tokens
from ..helpers import freeze, keeper, make_session, phone, station_with_class, worker

pytestmark = pytest.mark.dates

API = "/api/v1/stations"


async def _book(
    client: httpx.AsyncClient, headers: dict[str, str], session_id: int, n: int, seats: int = 1
) -> httpx.Response:
    return await client.post(
        f"{API}/sessions/{session_id}/bookings",
        headers=headers,
        json={"name": f"居民{n}", "phone": phone(n), "seats": seats},
    )


async def test_hundred_concurrent_bookings_for_ten_seats_confirm_exactly_ten(
    stations: httpx.AsyncClient, stations_app: FastAPI, tokens: Tokens
) -> None:
    await station_with_class(stations, tokens)
    s = await make_session(stations, tokens, capacity=10, max_seats_per_booking=1)
    h = worker(tokens)
    responses = await asyncio.gather(*(_book(stations, h, s["id"], n) for n in range(100)))
    assert all(r.status_code == 201 for r in responses), {r.status_code for r in responses}
    statuses = [r.json()["status"] for r in responses]
    assert statuses.count("confirmed") == 10
    assert statuses.count("waitlisted") == 90
    r = await stations.get(f"{API}/sessions/{s['id']}", headers=h)
    assert r.json()["booked"] == 10 and r.json()["available"] == 0


async def test_booking_is_masked_and_the_same_phone_twice_is_a_conflict(
    stations: httpx.AsyncClient, tokens: Tokens
) -> None:
    await station_with_class(stations, tokens)
    s = await make_session(stations, tokens)
    h = worker(tokens)
    r = await stations.post(
        f"{API}/sessions/{s['id']}/bookings",
        headers=h,
        json={"name": "王小明", "phone": "13812345678", "seats": 2},
    )
    assert r.status_code == 201
    assert r.json()["phone"] == "138****5678" and r.json()["name"] == "王*明"
    assert "13812345678" not in r.text
    r = await stations.post(
        f"{API}/sessions/{s['id']}/bookings",
        headers=h,
        json={"name": "王小明", "phone": "+86 138 1234 5678"},
    )
    assert r.status_code == 409 and r.json()["code"] == "duplicate_booking"
    # concurrently, too: exactly one wins
    s2 = await make_session(stations, tokens)
    rs = await asyncio.gather(*(_book(stations, h, s2["id"], 7) for _ in range(5)))
    assert sorted(r.status_code for r in rs) == [201, 409, 409, 409, 409]


async def test_bad_bookings_are_422_with_the_reason(
    stations: httpx.AsyncClient, stations_app: FastAPI, tokens: Tokens
) -> None:
    await station_with_class(stations, tokens)
    h = worker(tokens)
    now = utcnow()
    s = await make_session(
        stations,
        tokens,
        capacity=5,
        booking_opens_at=now + dt.timedelta(days=1),
        booking_closes_at=now + dt.timedelta(days=2),
    )
    r = await _book(stations, h, s["id"], 1)
    assert r.status_code == 422 and r.json()["code"] == "booking_not_open"
    freeze(stations_app, now + dt.timedelta(days=2, hours=1))
    assert (await _book(stations, h, s["id"], 1)).json()["code"] == "booking_closed"
    freeze(stations_app, now + dt.timedelta(days=4))
    assert (await _book(stations, h, s["id"], 1)).json()["code"] == "session_past"
    freeze(stations_app, now + dt.timedelta(days=1, hours=1))
    r = await _book(stations, h, s["id"], 1, seats=6)
    assert r.status_code == 422 and r.json()["code"] == "over_capacity"
    r = await _book(stations, h, s["id"], 1, seats=4)
    assert r.status_code == 422 and r.json()["code"] == "over_resident_limit"
    r = await stations.post(f"{API}/sessions/{s['id']}/bookings", headers=h, json={"name": "x", "phone": "12345"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.phone"
    r = await stations.post(f"{API}/sessions/{s['id']}/cancel", headers=keeper(tokens), json={"reason": "下雨"})
    assert r.status_code == 200 and r.json()["status"] == "cancelled"
    assert (await _book(stations, h, s["id"], 1)).json()["code"] == "session_cancelled"
    assert (await _book(stations, h, 999999, 1)).status_code == 404


async def test_cancellation_promotes_the_waitlist_first_come_first_served_with_partial_seats(
    stations: httpx.AsyncClient, stations_app: FastAPI, tokens: Tokens
) -> None:
    await station_with_class(stations, tokens)
    s = await make_session(stations, tokens, capacity=4, max_seats_per_booking=3)
    h = worker(tokens)
    a = (await _book(stations, h, s["id"], 1, seats=3)).json()  # confirmed (3/4)
    b = (await _book(stations, h, s["id"], 2, seats=1)).json()  # confirmed (4/4)
    parent = (await _book(stations, h, s["id"], 3, seats=2)).json()  # waitlisted, first
    single = (await _book(stations, h, s["id"], 4, seats=1)).json()  # waitlisted, second
    assert [a["status"], b["status"], parent["status"], single["status"]] == [
        "confirmed",
        "confirmed",
        "waitlisted",
        "waitlisted",
    ]
    # One seat frees: the parent needs two, so the next booking that fits gets it.
    r = await stations.post(f"{API}/bookings/{b['id']}/cancel", headers=h)
    assert r.json()["status"] == "cancelled"
    got = {
        x["id"]: x["status"]
        for x in (await stations.get(f"{API}/sessions/{s['id']}/bookings", headers=h)).json()["items"]
    }
    assert got[parent["id"]] == "waitlisted" and got[single["id"]] == "confirmed"
    # Three seats free: the parent, first in line, is promoted.
    await stations.post(f"{API}/bookings/{a['id']}/cancel", headers=h)
    r = await stations.get(f"{API}/bookings/{parent['id']}", headers=h)
    assert r.json()["status"] == "confirmed" and r.json()["promoted_at"]
    assert (await stations.get(f"{API}/sessions/{s['id']}", headers=h)).json()["booked"] == 3
    # the promoted residents are told (worker pass)
    await stations_app.state.worker.tick()
    r = await stations.get(f"{API}/notifications", headers=h)
    kinds = [n["kind"] for n in r.json()["items"]]
    assert kinds.count("booking.promoted") == 2


async def test_cancellation_closes_at_the_cut_off(
    stations: httpx.AsyncClient, stations_app: FastAPI, tokens: Tokens
) -> None:
    await station_with_class(stations, tokens)
    starts = utcnow() + dt.timedelta(days=1)
    s = await make_session(stations, tokens, starts_at=starts, cancel_cutoff_at=starts - dt.timedelta(hours=3))
    h = worker(tokens)
    booking = (await _book(stations, h, s["id"], 1)).json()
    freeze(stations_app, starts - dt.timedelta(hours=2))
    r = await stations.post(f"{API}/bookings/{booking['id']}/cancel", headers=h)
    assert r.status_code == 422 and r.json()["code"] == "cancel_cutoff_passed"


async def test_session_below_minimum_is_cancelled_at_the_cut_off_and_everyone_told(
    stations: httpx.AsyncClient, stations_app: FastAPI, tokens: Tokens
) -> None:
    await station_with_class(stations, tokens)
    starts = utcnow() + dt.timedelta(days=3)
    cutoff = starts - dt.timedelta(days=1)
    s = await make_session(stations, tokens, starts_at=starts, min_participants=4, min_cutoff_at=cutoff, capacity=6)
    full = await make_session(stations, tokens, starts_at=starts, min_participants=1, min_cutoff_at=cutoff)
    h = worker(tokens)
    for n in range(3):
        await _book(stations, h, s["id"], n)  # 3 of 4 needed
    await _book(stations, h, full["id"], 9)
    async with stations_app.state.sessionmaker() as db:
        assert await bookings.auto_cancel_underbooked(db, cutoff - dt.timedelta(minutes=1)) == []
        assert await bookings.auto_cancel_underbooked(db, cutoff + dt.timedelta(minutes=1)) == [s["id"]]
        assert await bookings.auto_cancel_underbooked(db, cutoff + dt.timedelta(minutes=2)) == []
        await db.commit()
    r = await stations.get(f"{API}/sessions/{s['id']}", headers=h)
    assert r.json()["status"] == "cancelled" and "4" in r.json()["cancel_reason"]
    assert (await stations.get(f"{API}/sessions/{full['id']}", headers=h)).json()["status"] == "scheduled"
    items = (await stations.get(f"{API}/sessions/{s['id']}/bookings", headers=h)).json()["items"]
    assert {b["status"] for b in items} == {"cancelled"}
    sent = await stations_app.state.worker.outbox.run_until_idle()
    assert sent >= 3
    r = await stations.get(f"{API}/notifications", headers=h)
    cancelled = [n for n in r.json()["items"] if n["kind"] == "session.cancelled"]
    assert len(cancelled) == 3
    assert all("****" in n["recipient"] for n in cancelled)


async def test_check_in_no_show_and_figures(stations: httpx.AsyncClient, stations_app: FastAPI, tokens: Tokens) -> None:
    await station_with_class(stations, tokens)
    starts = utcnow() + dt.timedelta(minutes=30)
    s = await make_session(stations, tokens, starts_at=starts)
    h = worker(tokens)
    one = (await _book(stations, h, s["id"], 1, seats=2)).json()
    two = (await _book(stations, h, s["id"], 2)).json()
    hk = keeper(tokens)
    r = await stations.post(f"{API}/bookings/{one['id']}/check-in", headers=hk)
    assert r.status_code == 200 and r.json()["status"] == "attended"
    r = await stations.post(f"{API}/bookings/{one['id']}/check-in", headers=hk)
    assert r.status_code == 422
    # a social worker may book but does not run the door
    assert (await stations.post(f"{API}/bookings/{two['id']}/check-in", headers=h)).status_code == 403
    r = await stations.post(f"{API}/bookings/{two['id']}/no-show", headers=hk)
    assert r.status_code == 422 and r.json()["code"] == "too_early"
    freeze(stations_app, starts + dt.timedelta(minutes=5))
    r = await stations.post(f"{API}/bookings/{two['id']}/no-show", headers=hk)
    assert r.json()["status"] == "no_show"
    day = local_today(starts)
    period = {"from": (day - dt.timedelta(days=1)).isoformat(), "to": (day + dt.timedelta(days=1)).isoformat()}
    r = await stations.get(f"{API}/figures", headers=h, params=period)
    fig = r.json()["stations"][0]
    assert fig["station_code"] == "testclass"
    assert fig["seats_attended"] == 2 and fig["no_shows"] == 1 and fig["seats_booked"] == 3
    assert r.json()["total_people_served"] == 2


async def test_another_communitys_bookings_answer_404(
    stations: httpx.AsyncClient, stations_app: FastAPI, tokens: Tokens
) -> None:
    await station_with_class(stations, tokens)
    s = await make_session(stations, tokens)
    booking = (await _book(stations, worker(tokens), s["id"], 1)).json()
    other = worker(tokens, community="zhenhuai")
    assert (await stations.get(f"{API}/bookings/{booking['id']}", headers=other)).status_code == 404
    assert (await stations.post(f"{API}/bookings/{booking['id']}/cancel", headers=other)).status_code == 404
    assert (await _book(stations, other, s["id"], 2)).status_code == 404
    assert (await stations.get(f"{API}/sessions/{s['id']}/bookings", headers=other)).status_code == 404
    # the session itself (no personal data) is readable by all staff
    assert (await stations.get(f"{API}/sessions/{s['id']}", headers=other)).status_code == 200
    county = tokens.headers("auditor", community=None)
    assert (await stations.get(f"{API}/bookings/{booking['id']}", headers=county)).status_code == 200


async def test_phone_is_encrypted_at_rest(stations: httpx.AsyncClient, stations_app: FastAPI, tokens: Tokens) -> None:
    from sqlmodel import select

    await station_with_class(stations, tokens)
    s = await make_session(stations, tokens)
    await _book(stations, worker(tokens), s["id"], 5)
    async with stations_app.state.sessionmaker() as db:
        row = (await db.exec(select(Booking))).one()
    assert phone(5) not in row.phone_cipher and row.phone_cipher.startswith("v1.")
    assert stations_app.state.pii.decrypt(row.phone_cipher, context="phone") == phone(5)


async def test_reminders_go_out_the_day_before_once(
    stations: httpx.AsyncClient, stations_app: FastAPI, tokens: Tokens
) -> None:
    await station_with_class(stations, tokens)
    starts = utcnow() + dt.timedelta(days=2)
    s = await make_session(stations, tokens, starts_at=starts)
    await _book(stations, worker(tokens), s["id"], 1)
    w = stations_app.state.worker
    await w.tick(starts - dt.timedelta(days=1, hours=2))
    await w.tick(starts - dt.timedelta(hours=20))
    await w.tick(starts - dt.timedelta(hours=10))
    r = await stations.get(f"{API}/notifications", headers=worker(tokens))
    assert [n["kind"] for n in r.json()["items"]] == ["session.reminder"]
    assert "明天" in r.json()["items"][0]["text"]


async def test_concurrent_cancels_of_one_booking_free_its_seats_once(
    stations: httpx.AsyncClient, stations_app: FastAPI, tokens: Tokens
) -> None:
    await station_with_class(stations, tokens)
    s = await make_session(stations, tokens, capacity=3, max_seats_per_booking=3)
    h = worker(tokens)
    big = (await _book(stations, h, s["id"], 1, seats=2)).json()
    await _book(stations, h, s["id"], 2, seats=1)
    waiting = [(await _book(stations, h, s["id"], n, seats=1)).json() for n in range(3, 7)]
    assert {w["status"] for w in waiting} == {"waitlisted"}
    rs = await asyncio.gather(*(stations.post(f"{API}/bookings/{big['id']}/cancel", headers=h) for _ in range(6)))
    assert sorted(r.status_code for r in rs)[0] == 200
    assert sum(r.status_code == 200 for r in rs) == 1
    assert all(r.status_code in (200, 409, 422) for r in rs)
    # the sweep may run concurrently with nothing left to do
    async with stations_app.state.sessionmaker() as db:
        assert await bookings.promote_sweep(db, utcnow()) == 0
        await db.commit()
    session = (await stations.get(f"{API}/sessions/{s['id']}", headers=h)).json()
    items = (await stations.get(f"{API}/sessions/{s['id']}/bookings", headers=h)).json()["items"]
    confirmed = sum(b["seats"] for b in items if b["status"] == "confirmed")
    assert session["booked"] == confirmed == 3


async def test_full_session_without_waitlist_is_a_conflict_and_leaves_nothing(
    stations: httpx.AsyncClient, tokens: Tokens
) -> None:
    await station_with_class(stations, tokens)
    s = await make_session(stations, tokens, capacity=1, max_seats_per_booking=1)
    h = worker(tokens)
    assert (await _book(stations, h, s["id"], 1)).json()["status"] == "confirmed"
    r = await stations.post(
        f"{API}/sessions/{s['id']}/bookings",
        headers=h,
        json={"name": "赵六", "phone": phone(2), "waitlist": False},
    )
    assert r.status_code == 409 and r.json()["code"] == "session_full"
    items = (await stations.get(f"{API}/sessions/{s['id']}/bookings", headers=h)).json()["items"]
    assert len(items) == 1
