"""No second place to add a worker (issue 19, part 4): the proxy's roster and the stations'
keepers follow the gateway's staff records within seconds, without a restart. A real gateway
app serves its export on a port; a proxy and a stations app follow it as deployed (their own
service tokens, polling every 0.2 s)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from doorstep_proxy.config import ProxySettings
from doorstep_proxy.main import create_app as create_proxy
from doorstep_stations.config import StationsSettings
from doorstep_stations.demo.service import seed as seed_stations
from doorstep_stations.main import create_app as create_stations

from ...directory_support import serving_app, within
from ...proxy.cases.conftest import catalogue
from ...proxy.helpers import create
from ...support import Tokens, client_for, create_database, drop_database, running
from .support import bearer, new_worker

PROXY = "/api/v1/proxy"
STATIONS = "/api/v1/stations/stations"


@dataclass
class Followers:
    proxy: httpx.AsyncClient
    stations: httpx.AsyncClient


@pytest.fixture
async def followers(
    db_backend: str,
    tokens: Tokens,
    gateway: httpx.AsyncClient,
    gateway_app: FastAPI,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[Followers]:
    """Started after the gateway's tables were emptied and seeded (``gateway``), as deployed."""
    proxy_db = await create_database("doorstep_proxy", db_backend, tmp_path_factory.mktemp("roster-proxy"))
    stations_db = await create_database("doorstep_stations", db_backend, tmp_path_factory.mktemp("roster-st"))
    common: dict[str, Any] = {"environment": "test", "log_json": False, "directory_poll_seconds": 0.2}
    try:
        async with serving_app(gateway_app) as url:
            proxy = create_proxy(
                ProxySettings(database_url=proxy_db.url, database_schema=proxy_db.schema, directory_url=url, **common),
                key_set=tokens.key_set(),
            )
            stations = create_stations(
                StationsSettings(
                    database_url=stations_db.url,
                    database_schema=stations_db.schema,
                    directory_url=url,
                    worker_enabled=False,
                    database_pool_size=4,
                    **common,
                ),
                key_set=tokens.key_set(),
            )
            async with running(proxy), running(stations):
                proxy.state.catalog.prime(catalogue())
                async with stations.state.sessionmaker() as session:
                    await seed_stations(session)  # 78 stations, keepers from the demo staff file
                    await session.commit()
                async with client_for(proxy) as p, client_for(stations) as s:
                    yield Followers(p, s)
    finally:
        await drop_database(proxy_db)
        await drop_database(stations_db)


async def _team(client: httpx.AsyncClient, tokens: Tokens, grid: str) -> list[str]:
    resp = await client.get(f"{PROXY}/grids/{grid}/team", headers=tokens.headers("social_worker"))
    assert resp.status_code == 200, resp.text
    return [w["username"] for w in resp.json()["workers"]]


async def _keepers(client: httpx.AsyncClient, tokens: Tokens, code: str) -> list[str]:
    resp = await client.get(f"{STATIONS}/{code}", headers=tokens.headers("social_worker"))
    assert resp.status_code == 200, resp.text
    keepers: list[str] = resp.json()["keepers"]
    return keepers


async def test_a_worker_hired_moved_and_deactivated_at_the_gateway_is_followed_by_the_proxy(
    gateway: httpx.AsyncClient, followers: Followers, tokens: Tokens
) -> None:
    proxy = followers.proxy
    # The demo roster arrives as staff records: every grid of the demo has its worker.
    await within(5.0, lambda: _has(proxy, tokens, "chaoyang-g1", "chaoyang.g1.worker"))
    assert (await proxy.get("/readyz")).json()["dependencies"]["staff_roster"]["state"] == "ok"
    admin = await bearer(gateway, "county.admin")
    hired = await gateway.post("/api/v1/staff", json=new_worker("chaoyang.hire", grid="chaoyang-g2"), headers=admin)
    assert hired.status_code == 201, hired.text
    await within(5.0, lambda: _has(proxy, tokens, "chaoyang-g2", "chaoyang.hire"))
    profile = (await proxy.get(f"{PROXY}/workers/chaoyang.hire", headers=tokens.headers())).json()
    assert (profile["display_name"], profile["community"], profile["status"]) == ("王新员", "chaoyang", "active")
    # What the proxy owns is set in the proxy, and survives the staff changes below.
    community_admin = tokens.headers("community_admin", subject="chaoyang.admin")
    owned = {"categories": ["elderly"], "status": "active"}
    assert (await proxy.put(f"{PROXY}/workers/chaoyang.hire", json=owned, headers=community_admin)).status_code == 200
    # A case is theirs while they are active.
    h = tokens.headers("social_worker")
    resident = await create(proxy, h, compound="jingdu", building="2", unit="1", room="301")
    case = await proxy.post(
        f"{PROXY}/cases",
        json={"resident_id": resident["id"], "item_code": "elderly-allowance", "channel": "window"},
        headers=h,
    )
    assert case.status_code == 201, case.text
    assign = f"{PROXY}/cases/{case.json()['id']}/assignment"
    taken = await proxy.post(assign, json={"assigned_to": "chaoyang.hire", "reason": "新同事"}, headers=h)
    assert taken.status_code == 200, taken.text

    moved = await gateway.patch("/api/v1/staff/chaoyang.hire", json={"grid": "chaoyang-g4"}, headers=admin)
    assert moved.status_code == 200, moved.text
    await within(5.0, lambda: _has(proxy, tokens, "chaoyang-g4", "chaoyang.hire"))
    assert "chaoyang.hire" not in await _team(proxy, tokens, "chaoyang-g2")

    off = await gateway.post("/api/v1/staff/chaoyang.hire/deactivate", headers=admin)
    assert off.status_code == 200, off.text

    async def inactive() -> bool:
        read = await proxy.get(f"{PROXY}/workers/chaoyang.hire", headers=h)
        return bool(read.json()["status"] == "inactive")

    await within(5.0, inactive)
    assert "chaoyang.hire" not in await _team(proxy, tokens, "chaoyang-g4")
    # Their case stays theirs; nothing new is offered to them.
    assert (await proxy.get(f"{PROXY}/cases/{case.json()['id']}", headers=h)).json()["assigned_to"] == "chaoyang.hire"
    again = await proxy.post(assign, json={"assigned_to": "chaoyang.hire", "reason": "再试"}, headers=h)
    assert again.status_code == 422 and again.json()["code"] == "unknown_worker"
    listed = await proxy.get(f"{PROXY}/workers", params={"status": "active", "limit": 200}, headers=h)
    assert "chaoyang.hire" not in [w["username"] for w in listed.json()["items"]]

    back = await gateway.post("/api/v1/staff/chaoyang.hire/reactivate", headers=admin)
    assert back.status_code == 200
    await within(5.0, lambda: _has(proxy, tokens, "chaoyang-g4", "chaoyang.hire"))
    again_read = (await proxy.get(f"{PROXY}/workers/chaoyang.hire", headers=h)).json()
    assert (again_read["status"], again_read["categories"]) == ("active", ["elderly"])


async def _has(client: httpx.AsyncClient, tokens: Tokens, grid: str, username: str) -> bool:
    return username in await _team(client, tokens, grid)


async def test_a_keepers_stations_at_the_gateway_become_the_stations_keepers(
    gateway: httpx.AsyncClient, followers: Followers, tokens: Tokens
) -> None:
    stations = followers.stations
    assert await _keepers(stations, tokens, "shuxiang") == ["shuxiang.keeper"]  # the demo's, from the staff file
    admin = await bearer(gateway, "chaoyang.admin")
    body = new_worker("chaoyang.helper", roles=["station_keeper"], grid=None, stations=["binjiang", "shuxiang"])
    made = await gateway.post("/api/v1/staff", json=body, headers=admin)
    assert made.status_code == 201, made.text

    async def keeps(code: str, wanted: list[str]) -> bool:
        return await _keepers(stations, tokens, code) == wanted

    await within(5.0, lambda: keeps("shuxiang", ["chaoyang.helper", "shuxiang.keeper"]))
    assert await _keepers(stations, tokens, "binjiang") == ["binjiang.keeper", "chaoyang.helper"]
    # The keeper now runs the station (the stations' own rule: a station's keepers manage it).
    helper = tokens.headers("station_keeper", subject="chaoyang.helper")
    assert (await stations.patch(f"{STATIONS}/shuxiang", json={"contact": "找小王"}, headers=helper)).status_code == 200
    # Keepers are written at the gateway only.
    county = tokens.headers("county_admin", community=None, subject="county.admin")
    refused = await stations.patch(f"{STATIONS}/shuxiang", json={"keepers": ["someone"]}, headers=county)
    assert refused.status_code == 409 and refused.json()["code"] == "keepers_follow_staff"

    changed = await gateway.patch("/api/v1/staff/chaoyang.helper", json={"stations": ["binjiang"]}, headers=admin)
    assert changed.status_code == 200, changed.text
    await within(5.0, lambda: keeps("shuxiang", ["shuxiang.keeper"]))
    assert (await stations.patch(f"{STATIONS}/shuxiang", json={"contact": "x"}, headers=helper)).status_code == 403
    off = await gateway.post("/api/v1/staff/chaoyang.helper/deactivate", headers=admin)
    assert off.status_code == 200
    await within(5.0, lambda: keeps("binjiang", ["binjiang.keeper"]))
