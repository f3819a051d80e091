"""Catalog app on each backend; tables emptied before every test."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from doorstep_catalog.config import CatalogSettings
from doorstep_catalog.main import create_app
from doorstep_catalog.models import metadata

from ..support import Tokens, client_for, create_database, drop_database, running, truncate_app


@pytest.fixture(scope="session")
async def catalog_app(
    db_backend: str, tokens: Tokens, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[FastAPI]:
    db = await create_database("doorstep_catalog", db_backend, tmp_path_factory.mktemp("catalog"))
    settings = CatalogSettings(environment="test", database_url=db.url, database_schema=db.schema, log_json=False)
    try:
        async with running(create_app(settings, key_set=tokens.key_set())) as app:
            yield app
    finally:
        await drop_database(db)


@pytest.fixture
async def catalog(catalog_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    await truncate_app(catalog_app, metadata)
    catalog_app.state.catalog_index.expire()  # emptied behind its back: no revision bump
    async with client_for(catalog_app) as client:
        yield client


@pytest.fixture
async def seeded(catalog: httpx.AsyncClient, catalog_app: FastAPI) -> httpx.AsyncClient:
    """The catalog client with the demo handbook loaded."""
    from doorstep_catalog.demo.service import seed

    async with catalog_app.state.sessionmaker() as session:
        await seed(session)
        await session.commit()
    return catalog


@pytest.fixture
def worker(tokens: Tokens) -> dict[str, str]:
    return tokens.headers("social_worker", community="chaoyang", grid="chaoyang-g6", subject="chaoyang.worker")


@pytest.fixture
def admin(tokens: Tokens) -> dict[str, str]:
    return tokens.headers("community_admin", community="chaoyang", subject="chaoyang.admin")


@pytest.fixture
def county_admin(tokens: Tokens) -> dict[str, str]:
    return tokens.headers("county_admin", community=None, subject="county.admin")
