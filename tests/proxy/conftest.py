"""Proxy app on each backend; tables emptied before every test."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from doorstep_proxy.config import ProxySettings
from doorstep_proxy.main import create_app
from doorstep_proxy.models import metadata
from doorstep_shared.directory import demo_directory_file

from ..support import Tokens, client_for, create_database, drop_database, running, truncate_app


@pytest.fixture(scope="session")
async def proxy_app(
    db_backend: str, tokens: Tokens, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[FastAPI]:
    db = await create_database("doorstep_proxy", db_backend, tmp_path_factory.mktemp("proxy"))
    settings = ProxySettings(
        environment="test",
        database_url=db.url,
        database_schema=db.schema,
        log_json=False,
        directory_file=demo_directory_file(),  # the demo directory, followed from the file
    )
    try:
        async with running(create_app(settings, key_set=tokens.key_set())) as app:
            yield app
    finally:
        await drop_database(db)


@pytest.fixture
async def proxy(proxy_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    await truncate_app(proxy_app, metadata)
    async with client_for(proxy_app) as client:
        yield client
