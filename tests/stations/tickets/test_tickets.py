"""Drop-off tickets: the 爱心裁缝铺 garment with a note, from drop-off to pick-up."""

from __future__ import annotations

import asyncio
import datetime as dt

import httpx
import pytest
from fastapi import FastAPI

from ...support import Tokens
from ..helpers import freeze, keeper, seed_demo, worker

pytestmark = pytest.mark.dates

API = "/api/v1/stations"
NOTE = {
    "service_code": "tailoring",
    "name": "李桂芳",
    "phone": "13912345678",
    "item": "蓝色裤子一条",
    "request": "裤脚改短3厘米",
}


async def _ticket(client: httpx.AsyncClient, tokens: Tokens, **changes: str) -> dict:
    r = await client.post(f"{API}/stations/shuxiang/tickets", headers=keeper(tokens), json={**NOTE, **changes})
    assert r.status_code == 201, r.text
    data: dict = r.json()
    return data


async def test_garment_is_logged_worked_on_ready_notified_and_collected_with_the_code(
    stations: httpx.AsyncClient, stations_app: FastAPI, tokens: Tokens
) -> None:
    await seed_demo(stations_app)
    hk = keeper(tokens)
    t = await _ticket(stations, tokens)
    assert t["number"] == "SH-001" and t["status"] == "received"
    assert t["phone"] == "139****5678" and t["name"] == "李*芳"
    assert t["received_by"] == "shuxiang.keeper"
    code = t["claim_code"]
    assert len(code) == 6
    second = await _ticket(stations, tokens)
    assert second["number"] == "SH-002" and second["claim_code"] != code
    r = await stations.get(f"{API}/tickets/{t['id']}", headers=hk)
    assert "claim_code" not in r.json() and "13912345678" not in r.text

    r = await stations.post(f"{API}/tickets/{t['id']}/status", headers=hk, json={"status": "in_progress"})
    assert r.json()["status"] == "in_progress"
    r = await stations.post(f"{API}/tickets/{t['id']}/status", headers=hk, json={"status": "ready"})
    assert r.json()["status"] == "ready" and r.json()["ready_at"]
    assert await stations_app.state.worker.tick() == 1
    assert await stations_app.state.worker.tick() == 0  # never twice
    r = await stations.get(f"{API}/notifications", headers=hk)
    [note] = r.json()["items"]
    assert note["kind"] == "ticket.ready" and note["recipient"] == "139****5678"
    assert "SH-001" in note["text"] and note["station_code"] == "shuxiang"

    r = await stations.post(f"{API}/tickets/{t['id']}/collect", headers=hk, json={"claim_code": code.lower()})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "collected" and r.json()["closed_at"]
    r = await stations.post(f"{API}/tickets/{t['id']}/collect", headers=hk, json={"claim_code": code})
    assert r.status_code == 422


async def test_wrong_claim_codes_are_counted_and_lock_the_ticket(
    stations: httpx.AsyncClient, stations_app: FastAPI, tokens: Tokens
) -> None:
    await seed_demo(stations_app)
    hk = keeper(tokens)
    t = await _ticket(stations, tokens)
    await stations.post(f"{API}/tickets/{t['id']}/status", headers=hk, json={"status": "ready"})
    max_attempts = stations_app.state.settings.claim_max_attempts
    for n in range(1, max_attempts + 1):
        r = await stations.post(f"{API}/tickets/{t['id']}/collect", headers=hk, json={"phone_last4": "0000"})
        assert r.status_code == 403
        assert r.json()["failed_attempts"] == n
    assert r.json()["code"] == "claim_locked"
    r = await stations.post(f"{API}/tickets/{t['id']}/collect", headers=hk, json={"claim_code": t["claim_code"]})
    assert r.status_code == 403 and r.json()["code"] == "claim_locked"
    r = await stations.post(f"{API}/tickets/{t['id']}/unlock", headers=hk)
    assert r.json()["locked"] is False and r.json()["failed_attempts"] == 0
    r = await stations.post(f"{API}/tickets/{t['id']}/collect", headers=hk, json={"phone_last4": "5678"})
    assert r.status_code == 200 and r.json()["status"] == "collected"


async def test_concurrent_wrong_attempts_never_go_past_the_limit(
    stations: httpx.AsyncClient, stations_app: FastAPI, tokens: Tokens
) -> None:
    await seed_demo(stations_app)
    hk = keeper(tokens)
    t = await _ticket(stations, tokens)
    await stations.post(f"{API}/tickets/{t['id']}/status", headers=hk, json={"status": "ready"})
    rs = await asyncio.gather(
        *(
            stations.post(f"{API}/tickets/{t['id']}/collect", headers=hk, json={"claim_code": "ZZZZZZ"})
            for _ in range(8)
        )
    )
    assert all(r.status_code == 403 for r in rs)
    r = await stations.get(f"{API}/tickets/{t['id']}", headers=hk)
    limit = stations_app.state.settings.claim_max_attempts
    assert r.json()["failed_attempts"] == limit and r.json()["locked"] is True


async def test_returned_unworked_needs_a_reason_and_bad_moves_are_rejected(
    stations: httpx.AsyncClient, stations_app: FastAPI, tokens: Tokens
) -> None:
    await seed_demo(stations_app)
    hk = keeper(tokens)
    t = await _ticket(stations, tokens)
    r = await stations.post(f"{API}/tickets/{t['id']}/status", headers=hk, json={"status": "returned"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.reason"
    r = await stations.post(
        f"{API}/tickets/{t['id']}/status",
        headers=hk,
        json={"status": "returned", "reason": "面料太薄无法修改"},
    )
    assert r.json()["status"] == "returned" and r.json()["return_reason"] == "面料太薄无法修改"
    r = await stations.post(f"{API}/tickets/{t['id']}/status", headers=hk, json={"status": "ready"})
    assert r.status_code == 422 and r.json()["code"] == "invalid_transition"
    r = await stations.post(f"{API}/tickets/{t['id']}/status", headers=hk, json={"status": "collected"})
    assert r.status_code == 422
    r = await stations.post(f"{API}/tickets/{t['id']}/collect", headers=hk, json={})
    assert r.status_code == 422


async def test_open_tickets_list_shows_age_and_figures_show_turnaround(
    stations: httpx.AsyncClient, stations_app: FastAPI, tokens: Tokens
) -> None:
    await seed_demo(stations_app)
    hk = keeper(tokens)
    t0 = dt.datetime(2026, 11, 2, 1, 0, tzinfo=dt.UTC)
    freeze(stations_app, t0)
    a = await _ticket(stations, tokens)
    b = await _ticket(stations, tokens, phone="13700001111")
    freeze(stations_app, t0 + dt.timedelta(hours=5))
    await stations.post(f"{API}/tickets/{a['id']}/status", headers=hk, json={"status": "ready"})
    await stations.post(f"{API}/tickets/{a['id']}/collect", headers=hk, json={"claim_code": a["claim_code"]})
    freeze(stations_app, t0 + dt.timedelta(hours=24))
    r = await stations.get(f"{API}/stations/shuxiang/tickets", headers=hk)
    [open_ticket] = r.json()["items"]
    assert open_ticket["id"] == b["id"] and open_ticket["age_hours"] == 24.0
    r = await stations.get(f"{API}/stations/shuxiang/tickets", headers=hk, params={"status": "all"})
    assert len(r.json()["items"]) == 2
    r = await stations.get(f"{API}/stations/shuxiang/tickets", headers=hk, params={"status": "collected"})
    assert [x["id"] for x in r.json()["items"]] == [a["id"]]
    r = await stations.get(f"{API}/figures", headers=hk, params={"from": "2026-11-01", "to": "2026-11-30"})
    [fig] = r.json()["stations"]
    assert fig["tickets_received"] == 2 and fig["tickets_collected"] == 1
    assert fig["avg_turnaround_hours"] == 5.0 and fig["people_served"] == 1


async def test_tickets_belong_to_their_station_and_community(
    stations: httpx.AsyncClient, stations_app: FastAPI, tokens: Tokens
) -> None:
    await seed_demo(stations_app)
    t = await _ticket(stations, tokens)
    other = keeper(tokens, subject="zhenhuaiyuan.keeper", community="zhenhuai")
    assert (await stations.get(f"{API}/tickets/{t['id']}", headers=other)).status_code == 404
    r = await stations.post(f"{API}/tickets/{t['id']}/status", headers=other, json={"status": "ready"})
    assert r.status_code == 404
    assert (await stations.get(f"{API}/stations/shuxiang/tickets", headers=other)).status_code == 404
    # the keeper of another chaoyang station sees but cannot work on it
    neighbour = keeper(tokens, subject="zhongyang.keeper")
    assert (await stations.get(f"{API}/tickets/{t['id']}", headers=neighbour)).status_code == 200
    r = await stations.post(f"{API}/tickets/{t['id']}/status", headers=neighbour, json={"status": "ready"})
    assert r.status_code == 403
    r = await stations.post(f"{API}/stations/zhongyang/tickets", headers=keeper(tokens), json=NOTE)
    assert r.status_code == 403
    # social workers read tickets but do not log them
    r = await stations.post(f"{API}/stations/shuxiang/tickets", headers=worker(tokens), json=NOTE)
    assert r.status_code == 403
    r = await stations.post(f"{API}/stations/shuxiang/tickets", headers=keeper(tokens), json={**NOTE, "phone": "12"})
    assert r.status_code == 422


async def test_ticket_updates_honour_if_match(
    stations: httpx.AsyncClient, stations_app: FastAPI, tokens: Tokens
) -> None:
    await seed_demo(stations_app)
    hk = keeper(tokens)
    t = await _ticket(stations, tokens)
    etag = (await stations.get(f"{API}/tickets/{t['id']}", headers=hk)).headers["etag"]
    r = await stations.post(
        f"{API}/tickets/{t['id']}/status", headers={**hk, "If-Match": etag}, json={"status": "in_progress"}
    )
    assert r.status_code == 200 and r.headers["etag"] != etag
    r = await stations.post(
        f"{API}/tickets/{t['id']}/status", headers={**hk, "If-Match": etag}, json={"status": "ready"}
    )
    assert r.status_code == 412


async def test_marking_ready_twice_at_once_notifies_once(
    stations: httpx.AsyncClient, stations_app: FastAPI, tokens: Tokens
) -> None:
    await seed_demo(stations_app)
    hk = keeper(tokens)
    t = await _ticket(stations, tokens)
    rs = await asyncio.gather(
        *(stations.post(f"{API}/tickets/{t['id']}/status", headers=hk, json={"status": "ready"}) for _ in range(4))
    )
    assert sum(r.status_code == 200 for r in rs) == 1
    assert all(r.status_code in (200, 409, 422) for r in rs)
    await stations_app.state.worker.tick()
    items = (await stations.get(f"{API}/notifications", headers=hk)).json()["items"]
    assert [n["kind"] for n in items] == ["ticket.ready"]
