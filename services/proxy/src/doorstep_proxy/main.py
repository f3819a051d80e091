"""The proxy app (朝阳代办): the four-clears ledger, workers and demands."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import AsyncIterator

from fastapi import FastAPI, Request
from prometheus_client import Counter

from doorstep_shared.app import create_service_app
from doorstep_shared.audit import audit_router
from doorstep_shared.clock import local_today
from doorstep_shared.idempotency import IdempotencyMiddleware
from doorstep_shared.tokens import KeySet
from doorstep_shared.webhooks import WebhookConfig, WebhookDispatcher, webhooks_router

from . import retention
from .audit import audit_log
from .cases.deadlines import configure_supplement, last_official_year, load_supplement
from .cases.router import router as cases_router
from .catalog_client import CatalogClient, ServiceToken
from .config import ProxySettings, get_settings
from .db import IDEMPOTENCY
from .demands.router import router as demands_router
from .deps import get_cipher
from .discovery.router import router as discovery_router
from .discovery.runs import queue_changed_residents
from .events.residents import residents_changed
from .events.webhooks import hooks
from .figures.router import router as figures_router
from .ledger.router import router as ledger_router
from .survey_import.router import router as import_router
from .workers.router import router as workers_router

TAGS = [
    {"name": "compounds", "description": "Compounds (小区底数清)"},
    {"name": "households", "description": "Households: people living together"},
    {"name": "residents", "description": "Residents (居民情况清); personal data masked"},
    {"name": "import", "description": "Bulk import of survey sheets (摸排表)"},
    {"name": "workers", "description": "Proxy workers (代办人员清) and grid teams"},
    {"name": "demands", "description": "Consultations and requests (群众诉求清)"},
    {"name": "figures", "description": "Ledger and demand figures per community and grid"},
    {"name": "audit", "description": "Reveal audit trail"},
    {
        "name": "audit-log",
        "description": "Append-only, hash-chained audit log (reveals, imports, removals, erasures) and its check",
    },
    {"name": "cases", "description": "Proxy cases (代办件): intake, status machine, deadlines, materials"},
    {"name": "visits", "description": "Doorstep visits, my day and my week"},
    {"name": "sync", "description": "Change feed for the offline field app"},
    {
        "name": "webhooks",
        "description": "Signed event deliveries (Standard Webhooks) to machine clients: "
        "subscriptions, secret rotation, delivery log, redelivery",
    },
    {"name": "retention", "description": "Erasure of personal data after the retention period (county admins)"},
]

WEBHOOKS_PREFIX = "/api/v1/proxy/webhooks"
logger = logging.getLogger("doorstep.proxy")


async def get_webhook_config(request: Request) -> WebhookConfig:
    config: WebhookConfig = request.app.state.webhook_config
    return config


@contextlib.asynccontextmanager
async def running_background(app: FastAPI, settings: ProxySettings) -> AsyncIterator[None]:
    """The webhook dispatcher and the retention purge, as tasks (when enabled); stopped cleanly."""
    dispatcher: WebhookDispatcher = app.state.webhook_dispatcher
    stop = asyncio.Event()
    tasks: list[asyncio.Task[None]] = []
    if settings.background_enabled:
        tasks.append(asyncio.create_task(dispatcher.run_forever(stop), name="proxy-webhooks"))
        tasks.append(
            asyncio.create_task(
                retention.background(app.state, settings.retention_days, settings.retention_interval),
                name="proxy-retention",
            )
        )
    try:
        yield
    finally:
        stop.set()
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await dispatcher.aclose()
        if tasks:
            logger.info("proxy background tasks stopped")


def load_holiday_calendar(settings: ProxySettings) -> None:
    """The operator's holiday notice, if any; say when due dates are about to become provisional."""
    configure_supplement({})
    if settings.holidays_file is not None:
        days = load_supplement(settings.holidays_file)
        logger.info("holiday notice loaded", extra={"file": str(settings.holidays_file), "days": days})
    known = last_official_year()
    if local_today() >= dt.date(known, 11, 1):  # the next year's notice is usually out by then
        logger.warning(
            "the holiday calendar ends with %d: due dates after it count Monday to Friday (provisional) "
            "until chinese-calendar is upgraded or DOORSTEP_PROXY_HOLIDAYS_FILE lists the next notice",
            known,
        )


def create_app(settings: ProxySettings | None = None, *, key_set: KeySet | None = None) -> FastAPI:
    settings = settings or get_settings()
    # Ledger writes announce "residents changed"; discovery re-evaluates their leads.
    residents_changed.subscribe(queue_changed_residents)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        load_holiday_calendar(settings)
        app.state.pii = settings.pii_cipher()
        token = ServiceToken(
            app.state.http, settings.token_url, settings.service_client_id, settings.service_client_secret
        )
        app.state.catalog = CatalogClient(
            app.state.http, settings.catalog_url, token, ttl=settings.catalog_cache_seconds
        )
        app.state.webhook_dispatcher = WebhookDispatcher(
            hooks, app.state.sessionmaker, app.state.pii, app.state.webhook_config
        )
        async with running_background(app, settings):
            yield

    webhooks = webhooks_router(WEBHOOKS_PREFIX, hooks=hooks, get_box=get_cipher, get_config=get_webhook_config)
    app = create_service_app(
        settings=settings,
        title="Doorstep proxy",
        description="Doorstep proxy service (朝阳代办): the four-clears ledger, cases, visits and leads.",
        package="doorstep_proxy",
        routers=[
            ledger_router,
            import_router,
            workers_router,
            demands_router,
            figures_router,
            cases_router,
            discovery_router,
            webhooks,
            retention.router,
            audit_router("/api/v1/proxy/audit", audit_log, tag="audit-log"),
        ],
        key_set=key_set,
        openapi_tags=TAGS,
        extra_lifespan=lifespan,
        # Every POST of the proxy honours Idempotency-Key (offline phones retry): see CASES.md.
        # Webhook routes are excluded: their answers carry signing secrets, never to be stored.
        extra_middleware=[
            (
                IdempotencyMiddleware,
                {"table": IDEMPOTENCY, "path_prefix": "/api/v1/proxy/", "exclude_prefixes": (WEBHOOKS_PREFIX + "/",)},
            )
        ],
    )
    app.state.webhook_config = settings.webhook_config()
    app.state.retention_erased = Counter(
        "doorstep_proxy_retention_erased_total",
        "Residents whose personal data the retention purge erased",
        registry=app.state.metrics.registry,
    )
    return app
