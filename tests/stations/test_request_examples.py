"""The stations' documented request examples, sent as they are one after the other (a station, its
service, their hours, a session of it, a booking), get their documented answers
(tests/test_request_examples.py checks that every example validates; these are also sent)."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from doorstep_stations.bookings.schemas import BookingCreate, SessionCreate
from doorstep_stations.hours.schemas import HoursExceptionCreate, HoursRuleCreate
from doorstep_stations.stations.schemas import ServiceCreate, StationCreate

from ..request_examples import example_of
from ..support import Tokens
from .helpers import admin, freeze, local

BASE = "/api/v1/stations"


async def test_station_examples_build_a_station_its_hours_a_session_and_a_booking(
    stations: httpx.AsyncClient, stations_app: FastAPI, tokens: Tokens
) -> None:
    freeze(stations_app, local(2026, 11, 2, 9, 0))  # before the example session, after its booking opens
    headers = admin(tokens)
    station = example_of(StationCreate)
    resp = await stations.post(f"{BASE}/stations", json=station, headers=headers)
    assert resp.status_code == 201, resp.text
    at = f"{BASE}/stations/{station['code']}"
    service = example_of(ServiceCreate)
    resp = await stations.post(f"{at}/services", json=service, headers=headers)
    assert resp.status_code == 201, resp.text
    rule = example_of(HoursRuleCreate)
    assert rule["service_code"] == service["code"]
    resp = await stations.post(f"{at}/hours/rules", json=rule, headers=headers)
    assert resp.status_code == 201, resp.text
    resp = await stations.post(f"{at}/hours/exceptions", json=example_of(HoursExceptionCreate), headers=headers)
    assert resp.status_code == 201, resp.text
    resp = await stations.post(
        f"{at}/services/{service['code']}/sessions", json=example_of(SessionCreate), headers=headers
    )
    assert resp.status_code == 201, resp.text
    session_id = resp.json()["id"]
    resp = await stations.post(
        f"{BASE}/sessions/{session_id}/bookings", json=example_of(BookingCreate), headers=headers
    )
    assert resp.status_code == 201, resp.text
