"""The proxy app (朝阳代办): the four-clears ledger, cases, visits, leads — assembled here."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from fastapi import FastAPI
from prometheus_client import Counter

from doorstep_shared.app import create_service_app
from doorstep_shared.auth.tokens import KeySet
from doorstep_shared.db.directory_store import DirectoryStore
from doorstep_shared.db.idempotency import IdempotencyMiddleware
from doorstep_shared.directory_copy import directory_copy, following
from doorstep_shared.http.health import ResponseMarkerMiddleware
from doorstep_shared.staff_roster import RosterCopy, following_roster, roster_url
from doorstep_shared.webhooks import WebhookDispatcher

from . import audit, background
from .batch.router import router as batch_router
from .batch.service import BATCH_PATH
from .cases.deadlines import load_holiday_calendar
from .cases.router import router as cases_router
from .catalog_client import CatalogClient
from .config import ProxySettings, get_settings
from .db import IDEMPOTENCY
from .demands.router import router as demands_router
from .discovery.router import router as discovery_router
from .discovery.runs import queue_changed_residents
from .events import router as webhook_routes
from .events.residents import residents_changed
from .events.webhooks import hooks
from .figures.router import router as figures_router
from .files.router import router as files_router
from .files.visit_router import router as visit_files_router
from .ledger.router import router as ledger_router
from .placement.models import directory_copy as directory_copy_table
from .retention.router import router as retention_router
from .state import ProxyState, state_of
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
    {
        "name": "files",
        "description": "Photos and scans of a case's materials: resumable upload, metadata stripped, "
        "encrypted at rest, every download audited",
    },
    {"name": "visits", "description": "Doorstep visits, my day and my week"},
    {"name": "sync", "description": "Change feed for the offline field app"},
    {
        "name": "webhooks",
        "description": "Signed event deliveries (Standard Webhooks) to machine clients: "
        "subscriptions, secret rotation, delivery log, redelivery",
    },
    {"name": "retention", "description": "Erasure of personal data after the retention period (county admins)"},
]


def create_app(settings: ProxySettings | None = None, *, key_set: KeySet | None = None) -> FastAPI:
    settings = settings or get_settings()
    # Ledger writes announce "residents changed"; discovery re-evaluates their leads.
    residents_changed.subscribe(queue_changed_residents)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        load_holiday_calendar(settings.holidays_file)
        state = state_of(app)
        state.pii = settings.pii_cipher()
        state.catalog = CatalogClient(
            state.http,
            settings.catalog_url,
            settings.service_credentials(),
            ttl=settings.catalog_cache_seconds,
            sessionmaker=state.sessionmaker,
            dependencies=state.dependencies,
        )
        await state.catalog.load_copy()
        state.webhook_dispatcher = WebhookDispatcher(hooks, state.sessionmaker, state.pii, state.webhook_config)
        store = DirectoryStore(directory_copy_table, state.sessionmaker)
        state.directory = directory_copy(settings, state.http, state.dependencies, store)
        state.catalog.directory = state.directory  # a resident's county picks the handbook
        state.directory.on_change(background.placement_listener(state))
        await state.directory.refresh()
        # Who works here follows the gateway's staff records (the gateway the directory comes from).
        state.roster = RosterCopy(
            url=roster_url(settings.directory_url),
            http=state.http,
            credentials=settings.service_credentials(),
            dependencies=state.dependencies,
        )
        state.roster.on_change(background.roster_listener(state))
        await state.roster.refresh()
        async with (
            following(state.directory, settings).running(),
            following_roster(state.roster, settings.directory_poll_seconds, settings.service_name).running(),
            background.background_work(app).running(),
        ):
            yield

    state = ProxyState()
    state.webhook_config = settings.webhook_config()
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
            files_router,
            visit_files_router,
            discovery_router,
            webhook_routes.router,
            retention_router,
            audit.router,
            batch_router,
        ],
        key_set=key_set,
        openapi_tags=TAGS,
        extra_lifespan=lifespan,
        audit_log=audit.audit_log,
        # Every POST of the proxy honours Idempotency-Key (offline phones retry): see CASES.md.
        # Webhook routes are excluded: their answers carry signing secrets, never to be stored.
        # So is the batch (a batch's answer may hold them too): keys go on its operations.
        # The stale-catalogue header rides outside the idempotency store: a replay says how old
        # the copy is now, not when the first answer was made.
        extra_middleware=[
            (
                IdempotencyMiddleware,
                {
                    "table": IDEMPOTENCY,
                    "path_prefix": "/api/v1/proxy/",
                    "exclude_prefixes": (webhook_routes.PREFIX + "/", BATCH_PATH),
                },
            ),
            (ResponseMarkerMiddleware, {}),
        ],
        state=state,
    )
    # The metrics registry is made with the app: the counter joins it once it exists.
    state.retention_erased = Counter(
        "doorstep_proxy_retention_erased_total",
        "Residents whose personal data the retention purge erased",
        registry=state.metrics.registry,
    )
    return app
