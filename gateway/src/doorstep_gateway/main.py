"""The gateway app: identity and tokens, the org directory, machine clients, routing to the
services with rate limits, Open311, county figures, and the merged API docs."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.middleware.cors import CORSMiddleware
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from doorstep_shared.app import create_service_app
from doorstep_shared.auth.permissions import Permission
from doorstep_shared.auth.tokens import SigningKey
from doorstep_shared.db.audit import audit_router
from doorstep_shared.http.health import ResponseMarkerMiddleware

from . import passwords
from .audit_trail.router import router as audit_trail_router
from .clients.router import router as clients_router
from .config import GatewaySettings, get_settings
from .db import audit
from .deps import require_in_county
from .directory import service as directory_service
from .directory.router import router as directory_router
from .docs.router import router as docs_router
from .forwarding.forwarder import UpstreamRouter
from .forwarding.health import watch_upstreams
from .forwarding.pool import Upstreams
from .forwarding.ratelimit import RateLimitMiddleware, make_limiter
from .identity.keys import load_keys
from .identity.router import auth_router, wellknown_router
from .open311.router import router as open311_router
from .reports.router import dashboard_router
from .reports.router import router as reports_router
from .roster.router import router as roster_router
from .staff.router import router as staff_router
from .state import GatewayState

logger = logging.getLogger("doorstep.gateway")

DESCRIPTION = """\
Doorstep (家门口): one entry for every client of the county's community services.

* **Sign in** with *Authorize* (OAuth2 password flow; demo logins in the README, e.g.
  `chaoyang.worker` / `doorstep-demo`), then try any call.
* `/api/v1/catalog/...` — the generalist's handbook (办事指南); `/api/v1/proxy/...` — the
  doorstep proxy service (上门代办); `/api/v1/stations/...` — party-mass stations (党群驿站).
* Errors are RFC 9457 `application/problem+json` with a stable `code`.
"""

TAGS = [
    {"name": "auth", "description": "Tokens and identity"},
    {
        "name": "directory",
        "description": "Counties → communities → grids → compounds as data (admin API, imports, the public "
        "export every service copies), and the staff",
    },
    {"name": "staff", "description": "Staff accounts: creation with one-time activation, roles, deactivation"},
    {"name": "clients", "description": "Machine clients (third-party platforms) and their credentials"},
    {
        "name": "audit",
        "description": "The gateway's append-only audit log (logins, client tokens, client and staff changes)",
    },
    {"name": "reports", "description": "County figures from all services; the dashboard"},
    {"name": "open311", "description": "Open311 GeoReport v2 for government platforms (docs/open311.md)"},
]

# Doorstep-Batch-Size: what a proxy batch costs against the rate limit (forwarding/ratelimit.py).
CORS_HEADERS = [
    "Authorization",
    "Content-Type",
    "Idempotency-Key",
    "If-Match",
    "If-None-Match",
    "X-Request-ID",
    "Doorstep-Batch-Size",
]
CORS_EXPOSED = ["ETag", "X-Request-ID", "Retry-After", "Doorstep-Catalogue-Stale-Since"]


def create_app(settings: GatewaySettings | None = None, *, signing_key: SigningKey | None = None) -> FastAPI:
    settings = settings or get_settings()
    passwords.configure(
        time_cost=settings.argon2_time_cost,
        memory_kib=settings.argon2_memory_kib,
        parallelism=settings.argon2_parallelism,
        workers=settings.argon2_workers,
    )
    keys = load_keys(settings, signing_key)
    state = GatewayState(signer=keys.signer(settings), jwks=keys.jwks, upstreams=Upstreams.from_settings(settings))
    app = create_service_app(
        settings=settings,
        title="Doorstep",
        description=DESCRIPTION,
        package="doorstep_gateway",
        routers=routers(settings),
        key_set=keys.key_set,
        extra_lifespan=lifespan,
        extra_middleware=middleware(settings, state),
        serve_docs=False,  # the gateway serves its own: one document merged from every service
        openapi_tags=TAGS,
        state=state,
        audit_log=audit,
    )
    return app


def routers(settings: GatewaySettings) -> list[APIRouter]:
    """The gateway's own routes, in the order the OpenAPI document lists them."""
    return [
        auth_router,
        directory_router,
        staff_router,
        roster_router,
        clients_router,
        audit_trail_router,
        # A county auditor sees the entries of their county as the directory is stored now.
        audit_router("/api/v1/audit", audit, auditor=require_in_county(Permission.AUDIT_READ)),
        wellknown_router,
        reports_router,
        dashboard_router,
        open311_router,
        *([docs_router] if settings.docs_enabled else []),
    ]


def middleware(settings: GatewaySettings, state: GatewayState) -> list[tuple[Any, dict[str, Any]]]:
    """Innermost first: the forwarder, the rate limiter in front of it, CORS (when configured).

    They are built before the app runs, the token verifier only in its lifespan: so they read it
    from the state when a request comes (the same object becomes ``app.state``).
    """
    stack: list[tuple[Any, dict[str, Any]]] = [
        (ResponseMarkerMiddleware, {}),  # the stale-catalogue header of Open311 and reports
        (
            UpstreamRouter,
            {
                "upstreams": state.upstreams,
                "verifier_of": lambda: state.verifier,
                "max_body_bytes": settings.max_body_bytes,
            },
        ),
        (
            RateLimitMiddleware,
            {
                "limiter": make_limiter(settings.redis_url),
                "verifier_of": lambda: state.verifier,
                "token_limit": settings.rate_limit_token,
                "user_limit": settings.rate_limit_user,
                "anonymous_limit": settings.rate_limit_anonymous,
            },
        ),
    ]
    if settings.forwarded_allow_ips.strip():
        # Outermost of these: the rate limiter and the client allow-lists see the address it
        # sets. uvicorn itself trusts no proxy (the launcher and the image pass --no-proxy-headers),
        # so an X-Forwarded-For counts only from the proxies named here.
        stack.append((ProxyHeadersMiddleware, {"trusted_hosts": settings.forwarded_allow_ips}))
    if settings.cors_origins:
        cors = {
            "allow_origins": settings.cors_origins,
            "allow_methods": ["*"],
            "allow_headers": CORS_HEADERS,
            "expose_headers": CORS_EXPOSED,
        }
        stack.append((CORSMiddleware, cors))
    return stack


@contextlib.asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Inside create_service_app's lifespan: open the upstream pools for the app's life, and
    build the directory's copy (if the database is not ready yet, the first read builds it)."""
    state = GatewayState.of(app)
    state.pii = state.settings.pii_cipher()
    try:
        async with state.sessionmaker() as session:
            await directory_service.current(session, state.directory)
    except Exception as exc:  # not migrated or unreachable yet: /readyz says so
        logger.warning("directory not loaded at start-up (%s); the first read loads it", type(exc).__name__)
    state.upstreams.open()
    watch_upstreams(state.dependencies, state.upstreams, timeout=state.settings.reports_timeout)
    try:
        yield
    finally:
        await state.upstreams.close()
