"""The proxy app (朝阳代办): the four-clears ledger, workers and demands."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from fastapi import FastAPI

from doorstep_shared.app import create_service_app
from doorstep_shared.idempotency import IdempotencyMiddleware
from doorstep_shared.tokens import KeySet

from .cases.models import IDEMPOTENCY
from .cases.router import router as cases_router
from .catalog_client import CatalogClient, ServiceToken
from .config import ProxySettings, get_settings
from .discovery.router import router as discovery_router
from .router import router
from .router_work import router as work_router

TAGS = [
    {"name": "compounds", "description": "Compounds (小区底数清)"},
    {"name": "households", "description": "Households: people living together"},
    {"name": "residents", "description": "Residents (居民情况清); personal data masked"},
    {"name": "import", "description": "Bulk import of survey sheets (摸排表)"},
    {"name": "workers", "description": "Proxy workers (代办人员清) and grid teams"},
    {"name": "demands", "description": "Consultations and requests (群众诉求清)"},
    {"name": "figures", "description": "Ledger and demand figures per community and grid"},
    {"name": "audit", "description": "Reveal audit trail"},
    {"name": "cases", "description": "Proxy cases (代办件): intake, status machine, deadlines, materials"},
    {"name": "visits", "description": "Doorstep visits, my day and my week"},
    {"name": "sync", "description": "Change feed for the offline field app"},
]


def create_app(settings: ProxySettings | None = None, *, key_set: KeySet | None = None) -> FastAPI:
    settings = settings or get_settings()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.pii = settings.pii_cipher()
        token = ServiceToken(
            app.state.http, settings.token_url, settings.service_client_id, settings.service_client_secret
        )
        app.state.catalog = CatalogClient(
            app.state.http, settings.catalog_url, token, ttl=settings.catalog_cache_seconds
        )
        yield

    return create_service_app(
        settings=settings,
        title="Doorstep proxy",
        description="Doorstep proxy service (朝阳代办): the four-clears ledger, cases, visits and leads.",
        package="doorstep_proxy",
        routers=[router, work_router, cases_router, discovery_router],
        key_set=key_set,
        openapi_tags=TAGS,
        extra_lifespan=lifespan,
        # Every POST of the proxy honours Idempotency-Key (offline phones retry): see CASES.md.
        extra_middleware=[(IdempotencyMiddleware, {"table": IDEMPOTENCY, "path_prefix": "/api/v1/proxy/"})],
    )
