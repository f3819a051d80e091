"""The lean ticket list (Core rows of the columns shown, the services' codes in one query, dicts
written as JSON once) answers exactly the bytes ``Page[TicketRead]`` wrote of the ORM entities:
the same pages and cursors, masking, redaction and ages, for each status filter and caller."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pydantic import TypeAdapter
from sqlmodel import col, select

from doorstep_shared.http.pagination import Page
from doorstep_stations.stations.models import Station, StationService
from doorstep_stations.tickets import service
from doorstep_stations.tickets.models import DropOffTicket
from doorstep_stations.tickets.schemas import TicketRead

from ...support import Tokens
from ..helpers import admin, county, freeze, keeper, local, seed_demo, worker

pytestmark = pytest.mark.dates

API = "/api/v1/stations"
PHONE = "13912345678"
PAGE: TypeAdapter[Page[TicketRead]] = TypeAdapter(Page[TicketRead])
FILTERS: list[dict[str, Any]] = [
    {},
    {"status": "all", "limit": 4},
    {"status": ["ready", "returned"], "limit": 2},
    {"status": ["open", "collected"], "limit": 5},
]


async def _expected(app: FastAPI, body: dict[str, Any], now: Any) -> bytes:
    ids = [item["id"] for item in body["items"]]
    async with app.state.sessionmaker() as session:
        found = {t.id: t for t in (await session.exec(select(DropOffTicket).where(col(DropOffTicket.id).in_(ids))))}
        station = (await session.exec(select(Station).where(Station.code == "shuxiang"))).one()
        services = {s.id: s.code for s in (await session.exec(select(StationService)))}
    items = [service.ticket_read(found[i], station, services.get(found[i].service_id), now) for i in ids]
    return PAGE.dump_json(Page[TicketRead](items=items, next_cursor=body["next_cursor"]))


async def test_ticket_pages_match_the_response_model_byte_for_byte(
    stations: httpx.AsyncClient, stations_app: FastAPI, tokens: Tokens
) -> None:
    await seed_demo(stations_app)
    freeze(stations_app, local(2026, 5, 4, 9, 15))
    hk = keeper(tokens)
    made = []
    for n in range(11):
        note = {
            "name": "李桂芳",
            "phone": f"1391234{n:04d}",
            "item": f"蓝色裤子{n}条" + (f"，家属电话{PHONE}" if n % 3 == 0 else ""),
            "request": "裤脚改短3厘米" if n % 2 else f"改好请打{PHONE}",
        } | ({"service_code": "tailoring"} if n % 4 else {})
        r = await stations.post(f"{API}/stations/shuxiang/tickets", headers=hk, json=note)
        assert r.status_code == 201, r.text
        made.append(r.json()["id"])
    freeze(stations_app, local(2026, 5, 5, 16, 40))
    for ticket, moves in zip(
        made,
        (["in_progress"], ["ready"], ["in_progress", "ready"], ["returned"], ["ready", "collected"]),
        strict=False,
    ):
        for to in moves:
            if to == "collected":
                r = await stations.post(f"{API}/tickets/{ticket}/collect", headers=hk, json={"phone_last4": "0004"})
            else:
                change = {"status": to} | ({"reason": f"面料太薄，已电话{PHONE}告知"} if to == "returned" else {})
                r = await stations.post(f"{API}/tickets/{ticket}/status", headers=hk, json=change)
            assert r.status_code == 200, r.text
    now = local(2026, 5, 6, 8, 5)
    freeze(stations_app, now)
    compared = 0
    for headers in (hk, admin(tokens), county(tokens), worker(tokens)):
        for query in FILTERS:
            params = dict(query)
            for _ in range(20):
                page = await stations.get(f"{API}/stations/shuxiang/tickets", params=params, headers=headers)
                assert page.status_code == 200, page.text
                body = page.json()
                assert page.content == await _expected(stations_app, body, now), query
                compared += len(body["items"])
                if not body["next_cursor"]:
                    break
                params["cursor"] = body["next_cursor"]
    assert compared >= 4 * 11
    everything = await stations.get(f"{API}/stations/shuxiang/tickets", params={"status": "all"}, headers=hk)
    assert PHONE not in everything.text and "139****5678" in everything.text
    assert {t["status"] for t in everything.json()["items"]} >= {"received", "in_progress", "ready", "returned"}
    assert {t["age_hours"] for t in everything.json()["items"]} >= {46.83}


def test_a_ticket_item_has_the_read_models_fields_in_order() -> None:
    ticket = DropOffTicket(
        id=7, station_id=1, community="chaoyang", number="SH-007", claim_code_hash="x", name="李桂芳",
        phone_cipher="x", phone_hash="x", phone_masked="139****5678", item="裤子", request="改短",
        received_by="k", received_at=local(2026, 5, 4, 9),
    )  # fmt: skip
    item = service.ticket_item(ticket, "shuxiang", None, local(2026, 5, 4, 10))
    assert list(item) == list(TicketRead.model_fields)
