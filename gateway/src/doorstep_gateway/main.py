"""The gateway app: identity and tokens, routing to the services, merged API docs."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from fastapi.responses import HTMLResponse, JSONResponse

from doorstep_shared.app import create_service_app
from doorstep_shared.audit import audit_router
from doorstep_shared.security import public
from doorstep_shared.tokens import (
    KeySet,
    SigningKey,
    TokenSigner,
    load_or_create_dev_key,
    public_jwk,
    public_key_from_pem,
)

from . import passwords
from .clients.router import ensure_service_clients
from .clients.router import router as clients_router
from .config import GatewaySettings, get_settings
from .docs.merge import MergedOpenAPI
from .forwarding.ratelimit import RateLimitMiddleware, make_limiter
from .forwarding.upstream import UpstreamRouter, Upstreams
from .identity.router import auth_router, directory_router, wellknown_router
from .models import audit
from .open311.router import router as open311_router
from .reports.router import dashboard_router
from .reports.router import router as reports_router

DESCRIPTION = """\
Doorstep (家门口): one entry for every client of the county's community services.

* **Sign in** with *Authorize* (OAuth2 password flow; demo logins in the README, e.g.
  `chaoyang.worker` / `doorstep-demo`), then try any call.
* `/api/v1/catalog/...` — the generalist's handbook (办事指南); `/api/v1/proxy/...` — the
  doorstep proxy service (上门代办); `/api/v1/stations/...` — party-mass stations (党群驿站).
* Errors are RFC 9457 `application/problem+json` with a stable `code`.
"""


def load_signing_key(settings: GatewaySettings) -> SigningKey:
    if settings.signing_key_file is not None:
        kid = settings.signing_key_id or settings.signing_key_file.stem
        return SigningKey.from_pem(kid, settings.signing_key_file.read_bytes())
    return load_or_create_dev_key(settings.var_dir / "keys" / "signing")


def create_app(settings: GatewaySettings | None = None, *, signing_key: SigningKey | None = None) -> FastAPI:
    settings = settings or get_settings()
    passwords.configure(time_cost=settings.argon2_time_cost, memory_kib=settings.argon2_memory_kib)
    key = signing_key or load_signing_key(settings)
    extra_keys = {path.stem: public_key_from_pem(path.read_bytes()) for path in settings.verification_key_files}
    extra_keys.pop(key.kid, None)
    key_set = KeySet(keys={key.kid: key.private_key.public_key(), **extra_keys})
    upstreams = Upstreams(
        urls=settings.upstreams,
        connect_timeout=settings.upstream_connect_timeout,
        read_timeout=settings.upstream_read_timeout,
        max_connections=settings.upstream_max_connections,
    )
    holder: dict[str, FastAPI] = {}

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if settings.service_client_secrets:
            async with app.state.sessionmaker() as session:
                await ensure_service_clients(session, settings.service_client_secrets)
                await session.commit()
        upstreams.open()
        try:
            yield
        finally:
            await upstreams.close()

    middleware: list[tuple[Any, dict[str, Any]]] = [
        (
            UpstreamRouter,
            {
                "upstreams": upstreams,
                "verifier_of": lambda: holder["app"].state.verifier,
                "max_body_bytes": settings.max_body_bytes,
            },
        ),
        (
            RateLimitMiddleware,
            {
                "limiter": make_limiter(settings.redis_url),
                "verifier_of": lambda: holder["app"].state.verifier,
                "token_limit": settings.rate_limit_token,
                "user_limit": settings.rate_limit_user,
                "anonymous_limit": settings.rate_limit_anonymous,
            },
        ),
    ]
    if settings.cors_origins:
        middleware.append(
            (
                CORSMiddleware,
                {
                    "allow_origins": settings.cors_origins,
                    "allow_methods": ["*"],
                    "allow_headers": [
                        "Authorization",
                        "Content-Type",
                        "Idempotency-Key",
                        "If-Match",
                        "If-None-Match",
                        "X-Request-ID",
                    ],
                    "expose_headers": ["ETag", "X-Request-ID", "Retry-After"],
                },
            )
        )
    app = create_service_app(
        settings=settings,
        title="Doorstep",
        description=DESCRIPTION,
        package="doorstep_gateway",
        routers=[
            auth_router,
            directory_router,
            clients_router,
            audit_router("/api/v1/audit", audit),
            wellknown_router,
            reports_router,
            dashboard_router,
            open311_router,
        ],
        key_set=key_set,
        extra_lifespan=lifespan,
        extra_middleware=middleware,
        serve_docs=False,
        openapi_tags=[
            {"name": "auth", "description": "Tokens and identity"},
            {"name": "directory", "description": "The county's communities, grids and staff"},
            {"name": "clients", "description": "Machine clients (third-party platforms) and their credentials"},
            {
                "name": "audit",
                "description": "The gateway's append-only audit log (logins, client tokens, client changes)",
            },
            {"name": "reports", "description": "County figures from all services; the dashboard"},
            {"name": "open311", "description": "Open311 GeoReport v2 for government platforms (docs/open311.md)"},
        ],
    )
    holder["app"] = app
    app.state.signer = TokenSigner(
        key,
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
        access_ttl=settings.access_token_ttl,
        refresh_ttl=settings.refresh_token_ttl,
    )
    app.state.jwks = {"keys": [key.public_jwk(), *(public_jwk(kid, k) for kid, k in extra_keys.items())]}
    app.state.upstreams = upstreams
    merged = MergedOpenAPI()

    if settings.docs_enabled:

        @app.get("/openapi.json", include_in_schema=False, dependencies=[Depends(public)])
        async def openapi(request: Request) -> JSONResponse:
            return JSONResponse(await merged.document(app.openapi(), upstreams.clients))

        @app.get("/docs", include_in_schema=False, dependencies=[Depends(public)])
        async def swagger() -> HTMLResponse:
            return get_swagger_ui_html(
                openapi_url="/openapi.json",
                title="Doorstep — API",
                oauth2_redirect_url="/docs/oauth2-redirect",
                swagger_ui_parameters={"persistAuthorization": True},
            )

        @app.get("/docs/oauth2-redirect", include_in_schema=False, dependencies=[Depends(public)])
        async def swagger_redirect() -> HTMLResponse:
            return get_swagger_ui_oauth2_redirect_html()

        @app.get("/redoc", include_in_schema=False, dependencies=[Depends(public)])
        async def redoc() -> HTMLResponse:
            return get_redoc_html(openapi_url="/openapi.json", title="Doorstep — API reference")

    return app
