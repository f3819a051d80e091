"""The lean session and booking lists (Core rows of the columns shown, dicts written as JSON once)
answer exactly the bytes the response models wrote of the ORM entities: the same pages through
their cursors, filters and ``?fields=`` trims, names and phones masked, a cancel reason redacted,
waitlist positions, for every kind of caller, over the demo data and bookings in every status."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.responses import JSONResponse
from pydantic import TypeAdapter
from sqlmodel import col, select

from doorstep_shared.clock import utcnow
from doorstep_shared.http.pagination import Page
from doorstep_shared.http.sparse import sparse
from doorstep_stations.bookings import service
from doorstep_stations.bookings.models import Booking, ServiceSession
from doorstep_stations.bookings.schemas import BookingRead, SessionRead
from doorstep_stations.stations.models import Station, StationService

from ...support import Tokens
from ..helpers import admin, freeze, keeper, make_session, phone, seed_demo, station_with_class, worker

pytestmark = pytest.mark.dates

API = "/api/v1/stations"
SESSIONS_PAGE: TypeAdapter[Page[SessionRead]] = TypeAdapter(Page[SessionRead])
BOOKINGS_PAGE: TypeAdapter[Page[BookingRead]] = TypeAdapter(Page[BookingRead])
REASON = "老师临时有事，改约请致电13912345678"
NAMES = ("王小明", "欧阳娜娜", "李", "张阿姨", "Anna Lee", "赵六")

BOOKING_QUERIES: list[dict[str, Any]] = [
    {"limit": 2},
    {"limit": 3, "fields": "name,status,waitlist_position"},
    {"status": ["waitlisted", "confirmed"], "limit": 2},
    {"status": "cancelled", "limit": 1, "fields": "phone,cancelled_at,promoted_at"},
    {"fields": "id", "limit": 4},
    {"fields": "resident_id,seats,checked_in_at,created_at,version,station_code,booked_by"},
]


class _Booker:
    """Books seats as the grid worker, each booking a new resident (name and phone)."""

    def __init__(self, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        self.client, self.headers, self.n = client, headers, 0

    async def __call__(self, session_id: int, seats: int = 1, **extra: Any) -> dict[str, Any]:
        self.n += 1
        body = {"name": NAMES[self.n % len(NAMES)], "phone": phone(self.n), "seats": seats, **extra}
        r = await self.client.post(f"{API}/sessions/{session_id}/bookings", headers=self.headers, json=body)
        assert r.status_code == 201, r.text
        booked: dict[str, Any] = r.json()
        return booked


async def _demo_like(client: httpx.AsyncClient, app: FastAPI, tokens: Tokens) -> list[int]:
    """The demo stations and their sessions, plus a class station with sessions whose bookings are
    confirmed, waitlisted, promoted, cancelled, attended and no-shows, and a session cancelled
    with a phone in its reason. The ids of the sessions with bookings."""
    await seed_demo(app)
    await station_with_class(client, tokens)
    book, keep = _Booker(client, worker(tokens)), keeper(tokens)
    starts = utcnow() + dt.timedelta(days=3)
    # Three at the same start: the cursor's (start, id) tie-break.
    busy = (await make_session(client, tokens, starts_at=starts, capacity=3, max_seats_per_booking=2))["id"]
    twin = (await make_session(client, tokens, starts_at=starts, capacity=5))["id"]
    doomed = (await make_session(client, tokens, starts_at=starts))["id"]
    for days in range(1, 4):
        await make_session(client, tokens, starts_at=starts + dt.timedelta(days=days), title="")
    soon_at = utcnow() + dt.timedelta(minutes=30)
    soon = (await make_session(client, tokens, starts_at=soon_at, capacity=4))["id"]

    await book(busy, 2, resident_id="res-0001")
    second = await book(busy)
    waiting = [await book(busy) for _ in range(4)]
    assert {w["status"] for w in waiting} == {"waitlisted"}
    r = await client.post(f"{API}/bookings/{second['id']}/cancel", headers=keep)  # promotes the first waiting
    assert r.status_code == 200, r.text
    r = await client.post(f"{API}/bookings/{waiting[2]['id']}/cancel", headers=keep)  # a waiting one gives up
    assert r.status_code == 200, r.text
    for _ in range(2):
        await book(twin)
    for _ in range(3):
        await book(doomed)
    r = await client.post(f"{API}/sessions/{doomed}/cancel", headers=keep, json={"reason": REASON})
    assert r.status_code == 200, r.text
    attended = [await book(soon, 2), await book(soon)]
    absent = await book(soon)
    for b in attended:
        r = await client.post(f"{API}/bookings/{b['id']}/check-in", headers=keep)
        assert r.status_code == 200, r.text
    freeze(app, soon_at + dt.timedelta(minutes=5))
    r = await client.post(f"{API}/bookings/{absent['id']}/no-show", headers=keep)
    assert r.status_code == 200, r.text
    app.dependency_overrides.clear()

    async with app.state.sessionmaker() as db:  # bookings on a demo session too
        demo = (
            await db.exec(
                select(ServiceSession.id)
                .where(col(ServiceSession.station_id) != (await _station_id(db, "testclass")))
                .order_by(col(ServiceSession.starts_at), col(ServiceSession.id))
            )
        ).first()
    assert demo is not None
    for seats in (1, 1, 1):
        await book(demo, seats)
    return [busy, twin, doomed, soon, demo]


async def _station_id(db: Any, code: str) -> int:
    station = (await db.exec(select(Station).where(Station.code == code))).one()
    assert station.id is not None
    return int(station.id)


async def _services_with_sessions(app: FastAPI) -> list[tuple[str, str]]:
    async with app.state.sessionmaker() as db:
        rows = await db.exec(
            select(Station.code, StationService.code)
            .join(StationService, col(StationService.station_id) == col(Station.id))
            .where(col(StationService.id).in_(select(ServiceSession.service_id)))
            .order_by(col(Station.code), col(StationService.code))
        )
        return [(station, svc) for station, svc in rows.all()]


async def _sessions_by_model(app: FastAPI, code: str, service_code: str, ids: list[int]) -> list[SessionRead]:
    """The page's sessions as the response model built them from the ORM entities."""
    async with app.state.sessionmaker() as db:
        station = (await db.exec(select(Station).where(Station.code == code))).one()
        svc = (
            await db.exec(
                select(StationService).where(
                    StationService.station_id == station.id, StationService.code == service_code
                )
            )
        ).one()
        found = {s.id: s for s in (await db.exec(select(ServiceSession).where(col(ServiceSession.id).in_(ids)))).all()}
        return [service.session_read(found[i], station, svc) for i in ids]


async def _bookings_by_model(app: FastAPI, session_id: int, ids: list[int]) -> list[BookingRead]:
    """The page's bookings as the response model built them from the ORM entities (their waitlist
    positions read as the writes read them)."""
    async with app.state.sessionmaker() as db:
        s = (await db.exec(select(ServiceSession).where(ServiceSession.id == session_id))).one()
        station = (await db.exec(select(Station).where(Station.id == s.station_id))).one()
        found = {b.id: b for b in (await db.exec(select(Booking).where(col(Booking.id).in_(ids)))).all()}
        reads: list[BookingRead] = await service.booking_reads(db, [found[i] for i in ids], station.code)
        return reads


async def test_session_and_booking_pages_match_the_response_models_byte_for_byte(
    stations: httpx.AsyncClient, stations_app: FastAPI, tokens: Tokens
) -> None:
    booked = await _demo_like(stations, stations_app, tokens)
    callers = {
        "keeper": keeper(tokens),
        "admin": admin(tokens),
        "worker": worker(tokens),
        "auditor": tokens.headers("auditor", community=None, subject="county.auditor"),
    }
    far = (utcnow() + dt.timedelta(days=4)).isoformat()
    session_queries: list[dict[str, Any]] = [{"limit": 2}, {"limit": 1, "to": far}, {"from": far, "limit": 3}, {}]
    compared_sessions = compared_bookings = 0
    seen_statuses: set[str] = set()
    redacted = False
    for headers in [*callers.values(), worker(tokens, "zhenhuai")]:  # sessions are every staff's to read
        for code, service_code in await _services_with_sessions(stations_app):
            url = f"{API}/stations/{code}/services/{service_code}/sessions"
            for query in session_queries:
                params, listed = dict(query), []
                for _ in range(50):
                    page = await stations.get(url, params=params, headers=headers)
                    assert page.status_code == 200, page.text
                    body = page.json()
                    ids = [item["id"] for item in body["items"]]
                    expected = Page[SessionRead](
                        items=await _sessions_by_model(stations_app, code, service_code, ids),
                        next_cursor=body["next_cursor"],
                    )
                    assert page.content == SESSIONS_PAGE.dump_json(expected), (code, service_code, query)
                    assert "13912345678" not in page.text
                    redacted = redacted or "139****5678" in page.text
                    listed += ids
                    if not body["next_cursor"]:
                        break
                    params["cursor"] = body["next_cursor"]
                assert len(set(listed)) == len(listed), query  # no session twice across the pages
                compared_sessions += len(listed)
    for headers in callers.values():
        for session_id in booked:
            for query in BOOKING_QUERIES:
                params, listed = dict(query), []
                fields = frozenset({"id", *query["fields"].split(",")}) if "fields" in query else None
                for _ in range(50):
                    page = await stations.get(f"{API}/sessions/{session_id}/bookings", params=params, headers=headers)
                    assert page.status_code == 200, page.text
                    body = page.json()
                    ids = [item["id"] for item in body["items"]]
                    models = await _bookings_by_model(stations_app, session_id, ids)
                    before = Page[BookingRead](items=models, next_cursor=body["next_cursor"])
                    if fields is None:
                        assert page.content == BOOKINGS_PAGE.dump_json(before), (session_id, query)
                    else:
                        trimmed = sparse(before, fields)
                        assert isinstance(trimmed, JSONResponse)
                        assert page.content == trimmed.body, (session_id, query)
                    seen_statuses |= {m.status.value for m in models}
                    listed += ids
                    if not body["next_cursor"]:
                        break
                    params["cursor"] = body["next_cursor"]
                assert len(set(listed)) == len(listed), query
                compared_bookings += len(listed)
    assert redacted  # the cancelled session's reason went out masked, as the model writes it
    assert seen_statuses == {"confirmed", "waitlisted", "cancelled", "attended", "no_show"}
    assert compared_sessions > 300 and compared_bookings > 250


async def test_a_session_and_a_booking_item_have_the_read_models_fields_in_order(
    stations: httpx.AsyncClient, stations_app: FastAPI, tokens: Tokens
) -> None:
    booked = await _demo_like(stations, stations_app, tokens)
    principal = tokens.principal("station_keeper", subject="shuxiang.keeper")
    async with stations_app.state.sessionmaker() as db:
        sessions, _ = await service.list_sessions(
            db, "testclass", "painting", after=None, before=None, cursor=None, limit=50
        )
        bookings, _ = await service.list_bookings(db, principal, booked[0], statuses=None, after_id=None, limit=50)
    assert sessions and bookings
    for item in sessions:
        assert list(item) == list(SessionRead.model_fields)
    for item in bookings:
        assert list(item) == list(BookingRead.model_fields)
    assert [b["waitlist_position"] for b in bookings if b["status"] == "waitlisted"] == [1, 2]
    reasons = [s["cancel_reason"] for s in sessions if s["cancel_reason"] is not None]
    assert reasons == ["老师临时有事，改约请致电139****5678"]
