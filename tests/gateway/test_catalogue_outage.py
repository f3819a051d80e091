"""A ten-minute catalogue outage, in-process: the real catalog, proxy and gateway apps, the proxy
reading the catalogue with its own service key, time moved with time-machine.

"The catalog is stopped" is a transport that refuses connections between the proxy and the
catalog: that is all a stopped catalog process is to the proxy (tests/e2e/test_outage.py stops
the real process). Leads and intake of known items keep working from the last good copy with
``Doorstep-Catalogue-Stale-Since``; /readyz (proxy and gateway), the metrics and the county
dashboard say so, one ERROR line per change; recovery needs nothing but the catalog coming back.
"""

from __future__ import annotations

import datetime as dt
import itertools
import logging
from collections.abc import Iterator

import httpx
import pytest
import time_machine
from sqlalchemy import text

from doorstep_proxy.catalog_client import STALE_HEADER, CatalogClient
from doorstep_proxy.demo import make_id_number
from doorstep_shared.clock import utcnow
from doorstep_shared.http.health import DependencyState

from ..support import Tokens
from .service_apps import Wired, service_apps_fixture, services_fixture  # noqa: F401 (fixtures)

P = "/api/v1/proxy"
_serial = itertools.count(500)


class Switch(httpx.AsyncBaseTransport):
    """The catalog, reachable or not (connection refused), as the proxy sees it."""

    def __init__(self, app: object) -> None:
        self.inner = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
        self.down = False
        self.calls = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.calls += 1
        if self.down:
            raise httpx.ConnectError("connection refused", request=request)
        return await self.inner.handle_async_request(request)


@pytest.fixture
def catalog_link(services: Wired) -> Iterator[Switch]:
    """The proxy's catalogue client on a switchable link; the fixture's primed copy comes back after."""
    client: CatalogClient = services.apps.proxy.state.catalog
    saved = (client.http, client.ttl, client._snapshot, client._etag)
    switch = Switch(services.apps.catalog)
    client.http = httpx.AsyncClient(transport=switch, base_url="http://catalog")
    client.ttl = dt.timedelta(seconds=30)
    client._checked = client._etag = None  # the next use fetches from the catalog for real
    gateway_deps = services.gateway_app.state.dependencies
    gateway_deps.probe_interval = 0
    services.apps.proxy.state.dependencies.probe_interval = 0

    def all_ok() -> None:
        services.apps.proxy.state.dependencies.mark("catalog", DependencyState.OK)
        for name in ("catalog", "proxy", "stations"):
            gateway_deps.mark(name, DependencyState.OK)

    # The apps are shared with other tests (one of them makes a service time out): start from
    # "all ok", so the state changes this test counts are its own.
    all_ok()
    try:
        yield switch
    finally:
        client.http, client.ttl, snapshot, client._etag = saved
        assert snapshot is not None
        client.prime(snapshot)
        all_ok()


def worker(tokens: Tokens) -> dict[str, str]:
    return tokens.headers("social_worker", community="chaoyang", grid="chaoyang-g1", subject="chaoyang.worker")


async def new_resident(services: Wired, headers: dict[str, str]) -> str:
    body = {"name": "测试居民", "id_number": make_id_number(dt.date(1940, 1, 1), next(_serial) * 2 + 1, "male")}
    r = await services.proxy.post(f"{P}/residents", json={**body, "compound": "binjiang"}, headers=headers)
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


async def intake(services: Wired, headers: dict[str, str], resident_id: str, item: str) -> httpx.Response:
    body = {"resident_id": resident_id, "item_code": item, "channel": "window"}
    return await services.proxy.post(f"{P}/cases", json=body, headers=headers)


def errors(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "doorstep.dependencies" and r.levelname == "ERROR"]


async def test_a_ten_minute_catalogue_outage_degrades_says_so_and_recovers_by_itself(
    services: Wired, tokens: Tokens, catalog_link: Switch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR, logger="doorstep.dependencies")
    proxy_app = services.apps.proxy
    before = await services.proxy.get(f"{P}/leads", headers=worker(tokens))
    assert before.status_code == 200, before.text
    assert STALE_HEADER.lower() not in before.headers
    assert catalog_link.calls == 1  # fetched for real, with the proxy's own service token
    await proxy_app.state.catalog.stored()  # the copy is written down in its own task, after the answer
    async with proxy_app.state.engine.connect() as conn:
        assert (await conn.execute(text("SELECT count(*) FROM catalogue_copy"))).scalar_one() == 1
    confirmed = proxy_app.state.catalog._confirmed
    resident_a = await new_resident(services, worker(tokens))
    resident_b = await new_resident(services, worker(tokens))

    catalog_link.down = True
    with time_machine.travel(utcnow() + dt.timedelta(minutes=10), tick=True):
        headers = worker(tokens)  # the earlier tokens have expired meanwhile
        for _ in range(3):
            leads = await services.proxy.get(f"{P}/leads", headers=headers)
            assert leads.status_code == 200, leads.text
            assert leads.headers[STALE_HEADER] == confirmed.isoformat()
        known = await intake(services, headers, resident_a, "elderly-allowance")
        assert known.status_code == 201, known.text
        assert known.headers[STALE_HEADER] == confirmed.isoformat()
        unknown = await intake(services, headers, resident_b, "added-while-the-catalog-was-down")
        assert unknown.status_code == 503 and unknown.json()["code"] == "catalog_unavailable"

        ready = await services.proxy.get("/readyz")
        assert ready.status_code == 200  # degraded, still in the Service
        assert ready.json()["status"] == "degraded"
        assert ready.json()["dependencies"]["catalog"]["stale_since"] == confirmed.isoformat()
        metrics = (await services.proxy.get("/metrics")).text
        assert 'doorstep_dependency_up{dependency="catalog"} 0.0' in metrics
        stale_seconds = next(
            float(line.split()[-1])
            for line in metrics.splitlines()
            if line.startswith('doorstep_dependency_stale_seconds{dependency="catalog"}')
        )
        assert stale_seconds >= 600

        gateway_ready = await services.gateway.get("/readyz")
        assert gateway_ready.status_code == 200
        assert gateway_ready.json()["dependencies"]["proxy"]["state"] == "degraded"
        county = tokens.headers("county_admin", community=None, subject="county.admin")
        summary = (await services.gateway.get("/api/v1/reports/summary", headers=county)).json()
        assert [(d["service"], d["detail"]) for d in summary["degraded"]] == [("proxy", "catalog degraded")]
        panel = (await services.gateway.get("/api/v1/reports/summary?format=html", headers=county)).text
        assert "代办服务（proxy）：降级运行" in panel

        # A proxy restarted during the outage starts from the stored copy.
        restarted = CatalogClient(
            catalog_link_client(catalog_link), "http://catalog", None, sessionmaker=proxy_app.state.sessionmaker
        )
        await restarted.load_copy()
        assert (await restarted.item("elderly-allowance")) is not None
        assert restarted.stale_since == confirmed
        await restarted.http.aclose()

    assert errors(caplog) == [
        "dependency catalog: ok -> degraded (refresh failed: ConnectError)",
        "dependency proxy: ok -> degraded (catalog degraded)",
    ]

    catalog_link.down = False
    with time_machine.travel(utcnow() + dt.timedelta(minutes=11), tick=True):
        headers = worker(tokens)
        after = await services.proxy.get(f"{P}/leads", headers=headers)
        assert after.status_code == 200 and STALE_HEADER.lower() not in after.headers
        assert (await services.proxy.get("/readyz")).json()["status"] == "ready"
        assert (await services.gateway.get("/readyz")).json()["status"] == "ready"
    assert errors(caplog)[2:] == ["dependency catalog: degraded -> ok", "dependency proxy: degraded -> ok"]


def catalog_link_client(switch: Switch) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=switch, base_url="http://catalog")
