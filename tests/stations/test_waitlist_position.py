"""Bookings say their place on the waitlist (#22 part 4): 1-based among the session's waitlisted
bookings in booking order, null once confirmed or cancelled; ``?fields=`` on the list."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from ..support import Tokens
from .helpers import make_session, phone, station_with_class, worker

pytestmark = pytest.mark.dates

API = "/api/v1/stations"


async def _book(client: httpx.AsyncClient, headers: dict[str, str], session_id: int, n: int) -> dict[str, Any]:
    resp = await client.post(
        f"{API}/sessions/{session_id}/bookings", headers=headers, json={"name": f"居民{n}", "phone": phone(n)}
    )
    assert resp.status_code == 201, resp.text
    body: dict[str, Any] = resp.json()
    return body


async def _places(client: httpx.AsyncClient, headers: dict[str, str], session_id: int) -> dict[int, Any]:
    resp = await client.get(f"{API}/sessions/{session_id}/bookings", headers=headers)
    assert resp.status_code == 200, resp.text
    return {b["id"]: (b["status"], b["waitlist_position"]) for b in resp.json()["items"]}


async def test_waitlist_positions_follow_booking_order_and_move_up(stations: httpx.AsyncClient, tokens: Tokens) -> None:
    await station_with_class(stations, tokens)
    s = await make_session(stations, tokens, capacity=1, max_seats_per_booking=1)
    h = worker(tokens)
    seated = await _book(stations, h, s["id"], 1)
    first = await _book(stations, h, s["id"], 2)
    second = await _book(stations, h, s["id"], 3)
    third = await _book(stations, h, s["id"], 4)
    assert seated["status"] == "confirmed" and seated["waitlist_position"] is None
    assert [b["waitlist_position"] for b in (first, second, third)] == [1, 2, 3]
    assert await _places(stations, h, s["id"]) == {
        seated["id"]: ("confirmed", None),
        first["id"]: ("waitlisted", 1),
        second["id"]: ("waitlisted", 2),
        third["id"]: ("waitlisted", 3),
    }

    # the seat frees up: the first in line is promoted, the others move up
    cancelled = await stations.post(f"{API}/bookings/{seated['id']}/cancel", headers=h)
    assert cancelled.status_code == 200 and cancelled.json()["waitlist_position"] is None
    assert await _places(stations, h, s["id"]) == {
        seated["id"]: ("cancelled", None),
        first["id"]: ("confirmed", None),
        second["id"]: ("waitlisted", 1),
        third["id"]: ("waitlisted", 2),
    }
    # someone waiting gives up: who came after moves up
    gave_up = await stations.post(f"{API}/bookings/{second['id']}/cancel", headers=h)
    assert gave_up.status_code == 200 and gave_up.json()["waitlist_position"] is None
    one = await stations.get(f"{API}/bookings/{third['id']}", headers=h)
    assert one.json()["status"] == "waitlisted" and one.json()["waitlist_position"] == 1


async def test_fields_trims_the_bookings_list(stations: httpx.AsyncClient, tokens: Tokens) -> None:
    await station_with_class(stations, tokens)
    s = await make_session(stations, tokens, capacity=1, max_seats_per_booking=1)
    h = worker(tokens)
    await _book(stations, h, s["id"], 1)
    waiting = await _book(stations, h, s["id"], 2)
    url = f"{API}/sessions/{s['id']}/bookings"
    resp = await stations.get(url, params={"fields": "status,waitlist_position"}, headers=h)
    assert resp.status_code == 200, resp.text
    assert resp.json()["items"][1] == {"id": waiting["id"], "status": "waitlisted", "waitlist_position": 1}
    bad = await stations.get(url, params={"fields": "status,phone_plain"}, headers=h)
    assert bad.status_code == 422 and [e["field"] for e in bad.json()["errors"]] == ["query.fields"]
