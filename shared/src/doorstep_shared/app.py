"""The common shape of a Doorstep service app: lifespan, errors, health, metrics, auth.

The composition root of the library: it builds on ``http/``, ``auth/`` and ``db/`` (which know
nothing of it), so it sits beside them rather than inside ``http/``.
"""

from __future__ import annotations

import contextlib
import functools
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

import httpx
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy.ext.asyncio import AsyncEngine

from .auth.security import public
from .auth.tokens import KeySet, TokenVerifier
from .config import ServiceSettings
from .db.engine import create_engine, ping
from .db.migrations import current_revision, head_revision, known_revisions

# The request's session reads the sessionmaker the lifespan below sets: part of the app's surface.
from .db.session import DbSession, WritesOnRead, make_sessionmaker, writes_on_read
from .http.errors import install_error_handlers, problem_response
from .http.observability import Metrics, RequestContextMiddleware, configure_logging
from .http.problems import document_problems

logger = logging.getLogger("doorstep.app")

Lifespan = Callable[[FastAPI], contextlib.AbstractAsyncContextManager[None]]


def get_engine(request: Request) -> AsyncEngine:
    engine: AsyncEngine = request.app.state.engine
    return engine


def create_service_app(
    *,
    settings: ServiceSettings,
    title: str,
    description: str,
    package: str,
    routers: Sequence[APIRouter],
    version: str = "0.1.0",
    openapi_tags: list[dict[str, Any]] | None = None,
    key_set: KeySet | None = None,
    extra_lifespan: Lifespan | None = None,
    extra_middleware: Sequence[tuple[Any, dict[str, Any]]] = (),
    serve_docs: bool = True,
) -> FastAPI:
    """Build a service app. ``package`` names the Python package holding ``migrations/``."""
    configure_logging(settings.service_name, settings.log_level, settings.log_json)
    metrics = Metrics(settings.service_name)
    expected_head = head_revision(package)
    known = known_revisions(package)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = create_engine(
            settings.database_url,
            schema=settings.database_schema,
            pool_size=settings.database_pool_size,
        )
        app.state.engine = engine
        app.state.sessionmaker = make_sessionmaker(engine)
        http = httpx.AsyncClient(timeout=httpx.Timeout(5.0, connect=2.0), follow_redirects=False)
        app.state.http = http
        keys = key_set or KeySet(url=settings.jwks_url, file=settings.jwks_file, http=http)
        app.state.key_set = keys
        app.state.verifier = TokenVerifier(keys, issuer=settings.jwt_issuer, audience=settings.jwt_audience)
        try:
            if extra_lifespan is not None:
                async with extra_lifespan(app):
                    yield
            else:
                yield
        finally:
            await http.aclose()
            await engine.dispose()

    docs = settings.docs_enabled and serve_docs
    app = FastAPI(
        title=title,
        description=description,
        version=version,
        lifespan=lifespan,
        openapi_tags=openapi_tags,
        docs_url="/docs" if docs else None,
        redoc_url="/redoc" if docs else None,
        openapi_url="/openapi.json" if docs else None,
        swagger_ui_parameters={"persistAuthorization": True},
        # FastAPI's built-in OpenTelemetry hooks cost CPU on every request even when nothing
        # collects them; we export our own Prometheus metrics and JSON logs instead.
        telemetry={"tracing": False, "metrics": False, "logs": False, "operation_spans": False},
    )
    app.state.settings = settings
    app.state.metrics = metrics
    install_error_handlers(app)
    for middleware_class, options in extra_middleware:
        app.add_middleware(middleware_class, **options)
    # Outermost: request ids, metrics and security headers for every response.
    # Read on the first request, not here: building an app (for its OpenAPI document) touches no disk.
    cursor_key = functools.cache(settings.cursor_key)
    app.state.cursor_key = cursor_key
    app.add_middleware(RequestContextMiddleware, metrics=metrics, hsts=settings.is_production, cursor_key=cursor_key)

    ops = APIRouter(tags=["operations"], dependencies=[Depends(public)])

    @ops.get("/healthz", summary="Liveness: the process is up")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @ops.get("/readyz", summary="Readiness: database reachable and migrations at head")
    async def readyz(request: Request) -> Response:
        engine = request.app.state.engine
        try:
            await ping(engine)
            revision = await current_revision(engine)
        except Exception as exc:  # any failure means "not ready", never a 500
            logger.warning("readiness: database unreachable (%s)", type(exc).__name__)
            return _not_ready("database unreachable")
        # A revision this image does not know is a newer release's (expand/contract keeps it
        # compatible), so old pods stay ready during a rolling upgrade; an older one is not.
        if revision != expected_head and (revision is None or revision in known):
            return _not_ready(f"migrations not at head ({revision} != {expected_head})")
        return JSONResponse({"status": "ready", "revision": revision})

    @ops.get("/metrics", summary="Prometheus metrics", include_in_schema=False)
    async def metrics_endpoint() -> Response:
        return metrics.render()

    app.include_router(ops)
    for router in routers:
        app.include_router(router)
    document_problems(app)
    return app


def _not_ready(detail: str) -> Response:
    return problem_response(503, "not_ready", detail)


__all__ = [
    "DbSession",
    "Lifespan",
    "WritesOnRead",
    "create_service_app",
    "get_engine",
    "writes_on_read",
]
