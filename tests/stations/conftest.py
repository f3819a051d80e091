"""Stations app on each backend; tables emptied before every test."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from doorstep_shared.directory import demo_directory_file
from doorstep_stations.config import StationsSettings
from doorstep_stations.main import create_app
from doorstep_stations.models import metadata

from ..support import Tokens, client_for, create_database, drop_database, running, truncate_all


@pytest.fixture(scope="session")
async def stations_app(
    db_backend: str, tokens: Tokens, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[FastAPI]:
    db = await create_database("doorstep_stations", db_backend, tmp_path_factory.mktemp("stations"))
    settings = StationsSettings(
        environment="test",
        database_url=db.url,
        database_schema=db.schema,
        log_json=False,
        directory_file=demo_directory_file(),  # the demo directory, followed from the file
        worker_enabled=False,  # tests drive the worker by calling it with a given "now"
        var_dir=tmp_path_factory.mktemp("stations-var"),
        # The 100-booking bursts serialise on the session's row anyway: 10 connections keep them
        # busy (+2 for a moment), and leave room on the shared 100-connection PostgreSQL for the session's other
        # apps (at 20 + 20 overflow the burst met "too many clients" in CI, answered 503).
        database_pool_size=10,
    )
    try:
        async with running(create_app(settings, key_set=tokens.key_set())) as app:
            yield app
    finally:
        await drop_database(db)


@pytest.fixture
async def stations(stations_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    await truncate_all(stations_app.state.engine, metadata)
    stations_app.state.snapshot.expire()  # emptied behind its back: no revision bump
    stations_app.dependency_overrides.clear()
    async with client_for(stations_app) as client:
        yield client
    stations_app.dependency_overrides.clear()
