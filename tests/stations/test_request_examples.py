"""The stations' documented request examples, sent as they are one after the other (a station, its
service, their hours, a session of it, a booking), get their documented answers
(tests/test_request_examples.py checks that every example validates; these are also sent)."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from doorstep_stations.bookings.schemas import BookingCreate, SessionCancel, SessionCreate
from doorstep_stations.hours.schemas import HoursExceptionCreate, HoursRuleCreate
from doorstep_stations.stations.schemas import ServiceCreate, ServiceUpdate, StationCreate, StationUpdate
from doorstep_stations.tickets.schemas import TicketCollect, TicketCreate, TicketStatusChange

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


async def test_station_update_ticket_and_cancel_examples_answer_as_documented(
    stations: httpx.AsyncClient, stations_app: FastAPI, tokens: Tokens
) -> None:
    freeze(stations_app, local(2026, 11, 2, 9, 0))
    headers = admin(tokens)
    station = example_of(StationCreate)
    created = await stations.post(f"{BASE}/stations", json=station, headers=headers)
    at = f"{BASE}/stations/{station['code']}"
    resp = await stations.patch(
        at, json=example_of(StationUpdate), headers={**headers, "If-Match": created.headers["ETag"]}
    )
    assert resp.status_code == 200, resp.text
    service = example_of(ServiceCreate)
    assert (await stations.post(f"{at}/services", json=service, headers=headers)).status_code == 201
    etag = (await stations.get(at, headers=headers)).headers["ETag"]  # a service's edit matches its station's
    resp = await stations.patch(
        f"{at}/services/{service['code']}", json=example_of(ServiceUpdate), headers={**headers, "If-Match": etag}
    )
    assert resp.status_code == 200, resp.text
    session = await stations.post(
        f"{at}/services/{service['code']}/sessions", json=example_of(SessionCreate), headers=headers
    )
    resp = await stations.post(
        f"{BASE}/sessions/{session.json()['id']}/cancel", json=example_of(SessionCancel), headers=headers
    )
    assert resp.status_code == 200, resp.text
    # the ticket example is for a drop-off service (爱心裁缝铺), as at the demo's 书香华府
    tailoring = {"code": "tailoring", "name": "爱心裁缝铺", "kind": "drop_off"}
    assert (await stations.post(f"{at}/services", json=tailoring, headers=headers)).status_code == 201
    ticket = await stations.post(f"{at}/tickets", json=example_of(TicketCreate), headers=headers)
    assert ticket.status_code == 201, ticket.text
    ticket_at = f"{BASE}/tickets/{ticket.json()['id']}"
    resp = await stations.post(f"{ticket_at}/status", json=example_of(TicketStatusChange), headers=headers)
    assert resp.status_code == 200, resp.text
    by_phone = TicketCollect.model_config["json_schema_extra"]["examples"][1]  # type: ignore[index]
    resp = await stations.post(f"{ticket_at}/collect", json=by_phone, headers=headers)
    assert resp.status_code == 200, resp.text
