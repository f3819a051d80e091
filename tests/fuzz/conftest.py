"""In-process apps for the fuzzer: catalog, proxy, stations and gateway on each backend, demo data loaded.

The apps are reached through schemathesis' ASGI transport, which runs their lifespans in its own
event-loop thread; so these fixtures are synchronous and set up databases with ``asyncio.run``
in a worker thread (never on the test session's loop).

schemathesis' pytest plugin ends every ASGI lifespan when a test ends, and the next request starts
it again. The proxy's lifespan makes a new catalogue client each time, with no copy of the
catalogue and a dead catalogue URL, so the proxy is handed the catalogue anew for every test
(:func:`fuzz_apps`); primed once per session, every test after the first answered 503
``catalog_unavailable`` on the catalogue-backed routes.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, cast

import pytest
from fastapi import FastAPI
from schemathesis.python import asgi

from doorstep_catalog.config import CatalogSettings
from doorstep_catalog.main import create_app as create_catalog
from doorstep_gateway.config import GatewaySettings
from doorstep_gateway.main import create_app as create_gateway
from doorstep_proxy.catalog_client import CatalogItem, CatalogSnapshot
from doorstep_proxy.config import ProxySettings
from doorstep_proxy.main import create_app as create_proxy
from doorstep_shared.db import create_engine, make_sessionmaker
from doorstep_stations.config import StationsSettings
from doorstep_stations.main import create_app as create_stations

from ..support import Database, Tokens, create_database, drop_database

DEAD = "http://127.0.0.1:9"  # discard port: nothing listens, nothing outside the test is reached


def in_thread(make: Callable[[], Coroutine[Any, Any, Any]]) -> Any:
    """Run a coroutine on a fresh loop in another thread (the test session's loop stays untouched)."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(lambda: asyncio.run(make())).result()


async def _seed(package: str, db: Database, **kwargs: Any) -> None:
    seed = __import__(f"{package}.seed", fromlist=["seed"]).seed
    engine = create_engine(db.url, schema=db.schema)
    try:
        async with make_sessionmaker(engine)() as session:
            await seed(session, **kwargs)
            await session.commit()
    finally:
        await engine.dispose()


@dataclass
class FuzzApps:
    catalog: FastAPI
    proxy: FastAPI
    stations: FastAPI
    gateway: FastAPI
    catalogue: CatalogSnapshot  # the in-process catalogue's export, handed to the proxy


def start(app: FastAPI) -> None:
    """Start an app's lifespan in schemathesis' loop thread (a no-op while it runs)."""
    with asgi.get_client(cast(Any, app)):
        pass


def export_catalogue(app: FastAPI, tokens: Tokens) -> CatalogSnapshot:
    """What the proxy would read over HTTP from ``GET /api/v1/catalog/export`` (it cannot reach it here)."""
    with asgi.get_client(cast(Any, app)) as client:
        export = client.get(
            "/api/v1/catalog/export", headers=tokens.headers(None, kind="client", scopes=("catalog:read",))
        )
    assert export.status_code == 200, export.text
    body = export.json()
    return CatalogSnapshot(
        revision=int(body.get("revision", 0)),
        items={raw["code"]: CatalogItem.model_validate(raw) for raw in body["items"]},
    )


@pytest.fixture
def fuzz_apps(fuzz_world: FuzzApps) -> FuzzApps:
    """The apps, the proxy running and holding the catalogue for this test (see the module doc)."""
    start(fuzz_world.proxy)
    fuzz_world.proxy.state.catalog.prime(fuzz_world.catalogue)
    return fuzz_world


@pytest.fixture(scope="session")
def fuzz_world(db_backend: str, tokens: Tokens, tmp_path_factory: pytest.TempPathFactory) -> Iterator[FuzzApps]:
    tmp: Path = tmp_path_factory.mktemp(f"fuzz-{db_backend}")
    dbs: dict[str, Database] = {
        name: in_thread(partial(create_database, f"doorstep_{name}", db_backend, tmp))
        for name in ("catalog", "proxy", "stations", "gateway")
    }
    common: dict[str, Any] = {"environment": "test", "log_json": False, "log_level": "CRITICAL", "var_dir": tmp}

    def conf(name: str) -> dict[str, Any]:
        return {**common, "database_url": dbs[name].url, "database_schema": dbs[name].schema}

    # No background workers anywhere: fuzzed webhook subscriptions must never be delivered.
    proxy_settings = ProxySettings(**conf("proxy"), catalog_url=DEAD, catalog_cache_seconds=86400, worker_enabled=False)
    in_thread(partial(_seed, "doorstep_catalog", dbs["catalog"]))
    in_thread(partial(_seed, "doorstep_proxy", dbs["proxy"], cipher=proxy_settings.pii_cipher()))
    in_thread(partial(_seed, "doorstep_stations", dbs["stations"]))
    in_thread(partial(_seed, "doorstep_gateway", dbs["gateway"]))
    catalog = create_catalog(CatalogSettings(**conf("catalog")), key_set=tokens.key_set())
    try:
        apps = FuzzApps(
            catalog=catalog,
            proxy=create_proxy(proxy_settings, key_set=tokens.key_set()),
            stations=create_stations(
                StationsSettings(**conf("stations"), worker_enabled=False), key_set=tokens.key_set()
            ),
            gateway=create_gateway(
                GatewaySettings(
                    **conf("gateway"),
                    catalog_url=DEAD,
                    proxy_url=DEAD,
                    stations_url=DEAD,
                    rate_limit_token="1000000/minute",
                    rate_limit_user="1000000/minute",
                    rate_limit_anonymous="1000000/minute",
                    argon2_time_cost=1,
                    argon2_memory_kib=1024,
                    max_body_bytes=1024 * 1024,
                ),
                signing_key=tokens.key,
            ),
            catalogue=export_catalogue(catalog, tokens),
        )
        yield apps
    finally:
        asgi.shutdown_lifespans()
        for db in dbs.values():
            in_thread(partial(drop_database, db))


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """How many operations the fuzzer got past authentication, the limiter and parsing."""
    from . import harness

    lines = harness.summary()
    if lines:
        terminalreporter.write_sep("-", "fuzzing reached")
        for line in lines:
            terminalreporter.write_line(line)
