"""Gateway app on each backend, signed with the suite's test key, demo logins seeded."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from doorstep_gateway.config import GatewaySettings
from doorstep_gateway.main import create_app
from doorstep_gateway.models import metadata
from doorstep_gateway.seed import seed

from ..support import Tokens, client_for, create_database, drop_database, running, truncate_app

DEAD_UPSTREAM = "http://127.0.0.1:9"  # discard port: nothing listens


@pytest.fixture(scope="session")
async def gateway_app(
    db_backend: str, tokens: Tokens, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[FastAPI]:
    db = await create_database("doorstep_gateway", db_backend, tmp_path_factory.mktemp("gateway"))
    settings = GatewaySettings(
        environment="test",
        database_url=db.url,
        database_schema=db.schema,
        log_json=False,
        catalog_url=DEAD_UPSTREAM,
        proxy_url=DEAD_UPSTREAM,
        stations_url=DEAD_UPSTREAM,
        login_max_failures=3,
        login_account_ceiling=8,
        rate_limit_token="100000/minute",
        rate_limit_user="100000/minute",
        rate_limit_anonymous="100000/minute",
        argon2_time_cost=1,
        argon2_memory_kib=1024,  # cheap hashes keep the suite fast; production uses the defaults
        max_body_bytes=1024 * 1024,
    )
    try:
        async with running(create_app(settings, signing_key=tokens.key)) as app:
            yield app
    finally:
        await drop_database(db)


@pytest.fixture
async def gateway(gateway_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    await truncate_app(gateway_app, metadata)
    async with gateway_app.state.sessionmaker() as session:
        await seed(session)
        await session.commit()
    async with client_for(gateway_app) as client:
        yield client


@pytest.fixture
def configure(gateway_app: FastAPI) -> Iterator[Any]:
    """``configure(name=value, …)``: the gateway's settings changed for one test (read per request)."""
    original = gateway_app.state.settings

    def apply(**changes: Any) -> None:
        gateway_app.state.settings = original.model_copy(update=changes)

    try:
        yield apply
    finally:
        gateway_app.state.settings = original
