"""The real catalog, proxy and stations apps in-process behind the gateway's own endpoints.

``services`` points the gateway's upstream clients (the ones its Open311 and report endpoints
use) at the service apps through ``httpx.ASGITransport``; the apps run on the test's backend,
with the catalogue's demo handbook and the org's compounds loaded (the stations on demand).
Import ``service_apps_fixture`` and ``services_fixture`` into a test module to use them.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from doorstep_catalog.config import CatalogSettings
from doorstep_catalog.main import create_app as create_catalog
from doorstep_catalog.seed import seed as seed_catalog
from doorstep_gateway.models import metadata as gateway_metadata
from doorstep_gateway.seed import seed as seed_gateway
from doorstep_proxy.catalog_client import CatalogItem, CatalogSnapshot
from doorstep_proxy.config import ProxySettings
from doorstep_proxy.main import create_app as create_proxy
from doorstep_proxy.models import metadata as proxy_metadata
from doorstep_proxy.seed import seed_compounds
from doorstep_stations.config import StationsSettings
from doorstep_stations.main import create_app as create_stations
from doorstep_stations.models import metadata as stations_metadata
from doorstep_stations.seed import seed as seed_stations

from ..support import Tokens, client_for, create_database, drop_database, running, truncate_all, truncate_app

SERVICES = ("catalog", "proxy", "stations")


@dataclass
class ServiceApps:
    catalog: FastAPI
    proxy: FastAPI
    stations: FastAPI

    def of(self, name: str) -> FastAPI:
        app: FastAPI = getattr(self, name)
        return app


@dataclass
class Wired:
    """The gateway client, and direct clients of the service apps (for seeding through their APIs)."""

    gateway: httpx.AsyncClient
    gateway_app: FastAPI
    apps: ServiceApps
    proxy: httpx.AsyncClient
    stations: httpx.AsyncClient

    async def with_stations(self) -> None:
        """Empty the stations app and load its 78 stations (only the figures need them)."""
        await truncate_all(self.apps.stations.state.engine, stations_metadata)
        async with self.apps.stations.state.sessionmaker() as session:
            await seed_stations(session)
            await session.commit()

    def down(self, name: str) -> None:
        """Make one service unreachable for the gateway (connection refused)."""

        def refuse(request: httpx.Request) -> httpx.Response:
            raise httpx.ConnectError("connection refused", request=request)

        self.gateway_app.state.upstreams.clients[name] = httpx.AsyncClient(
            transport=httpx.MockTransport(refuse), base_url=f"http://{name}"
        )


@pytest.fixture(scope="session", name="service_apps")
async def service_apps_fixture(
    db_backend: str, tokens: Tokens, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[ServiceApps]:
    tmp = tmp_path_factory.mktemp("gw-services")
    dbs = {name: await create_database(f"doorstep_{name}", db_backend, tmp) for name in SERVICES}
    common: dict[str, Any] = {"environment": "test", "log_json": False, "var_dir": tmp}

    def conf(name: str) -> dict[str, Any]:
        return {**common, "database_url": dbs[name].url, "database_schema": dbs[name].schema}

    try:
        async with contextlib.AsyncExitStack() as stack:
            catalog = await stack.enter_async_context(
                running(create_catalog(CatalogSettings(**conf("catalog")), key_set=tokens.key_set()))
            )
            proxy = await stack.enter_async_context(
                running(
                    create_proxy(ProxySettings(**conf("proxy"), catalog_cache_seconds=86400), key_set=tokens.key_set())
                )
            )
            stations = await stack.enter_async_context(
                running(
                    create_stations(
                        StationsSettings(**conf("stations"), worker_enabled=False), key_set=tokens.key_set()
                    )
                )
            )
            async with catalog.state.sessionmaker() as session:
                await seed_catalog(session)
                await session.commit()
            # The proxy reads the catalogue over HTTP with its own credentials; here it gets the
            # same published catalogue the gateway sees, installed directly.
            async with client_for(catalog) as c:
                export = (
                    await c.get("/api/v1/catalog/export", headers=tokens.headers("county_admin", community=None))
                ).json()
            proxy.state.catalog.prime(
                CatalogSnapshot(
                    revision=int(export["revision"]),
                    items={i["code"]: CatalogItem.model_validate(i) for i in export["items"]},
                )
            )
            yield ServiceApps(catalog=catalog, proxy=proxy, stations=stations)
    finally:
        for db in dbs.values():
            await drop_database(db)


@pytest.fixture(name="services")
async def services_fixture(gateway_app: FastAPI, service_apps: ServiceApps) -> AsyncIterator[Wired]:
    """An empty proxy (compounds loaded) behind the gateway, with the catalog and stations.

    The gateway's own tables are emptied and seeded (its directory names the communities the
    figures and Open311 use; the demo logins come with it).
    """
    await truncate_app(gateway_app, gateway_metadata)
    async with gateway_app.state.sessionmaker() as session:
        await seed_gateway(session)
        await session.commit()
    await truncate_app(service_apps.proxy, proxy_metadata)
    async with service_apps.proxy.state.sessionmaker() as session:
        await seed_compounds(session)
        await session.commit()
    gateway_app.state.catalog_views.clear()
    clients = gateway_app.state.upstreams.clients
    saved = dict(clients)
    for name in SERVICES:
        clients[name] = client_for(service_apps.of(name), base_url=f"http://{name}")
    try:
        async with (
            client_for(gateway_app) as gateway,
            client_for(service_apps.proxy) as proxy,
            client_for(service_apps.stations) as stations,
        ):
            yield Wired(gateway, gateway_app, service_apps, proxy, stations)
    finally:
        for name in SERVICES:
            await clients[name].aclose()
        clients.clear()
        clients.update(saved)
        gateway_app.state.catalog_views.clear()
