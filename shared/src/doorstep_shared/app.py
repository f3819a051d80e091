"""The common shape of a Doorstep service app: lifespan, errors, health, metrics, auth."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Annotated, Any

import httpx
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from .config import ServiceSettings
from .db import create_engine, make_sessionmaker, mark_write_intent, ping, session_scope, write_intent
from .errors import PROBLEM_JSON, install_error_handlers
from .migrations import current_revision, head_revision, known_revisions
from .observability import Metrics, RequestContextMiddleware, configure_logging
from .security import public
from .tokens import KeySet, TokenVerifier

logger = logging.getLogger("doorstep.app")

Lifespan = Callable[[FastAPI], contextlib.AbstractAsyncContextManager[None]]


async def _request_session(request: Request) -> AsyncIterator[AsyncSession]:
    factory: async_sessionmaker[AsyncSession] = request.app.state.sessionmaker
    # Restored afterwards: in-process callers (tests, ASGI transports) share one context.
    token = write_intent.set(request.method not in ("GET", "HEAD", "OPTIONS"))
    try:
        async with session_scope(factory) as session:
            yield session
    finally:
        try:
            write_intent.reset(token)
        except ValueError:  # exited in another context: fall back to the default
            write_intent.set(True)


# The request's session: committed when the handler returns, before the response is sent.
DbSession = Annotated[AsyncSession, Depends(_request_session, scope="function")]


async def writes_on_read(session: DbSession) -> None:
    """For a GET that writes (e.g. a read-your-writes refresh): one transaction from the first
    statement (PostgreSQL), the write lock taken up front (SQLite). Depends on the session so
    that it runs after the session dependency's own default."""
    mark_write_intent(True)


WritesOnRead = Depends(writes_on_read)


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
    app.add_middleware(RequestContextMiddleware, metrics=metrics, hsts=settings.is_production)

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
    _document_problems(app)
    return app


_PROBLEM_CONTENT = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
_COMMON_PROBLEMS = {
    "401": "Missing, invalid or expired bearer token",
    "403": "The caller lacks the permission this operation declares",
    "422": "Invalid input; `errors` lists the offending fields",
    "503": "A dependency (database, another service) is unavailable; retry later",
}


def _document_problems(app: FastAPI) -> None:
    """Every API operation documents the problems every API operation can answer (401, 403,
    422, 503) as ``application/problem+json``, which is what the error handlers send."""
    original = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = original()
        schema.setdefault("components", {}).setdefault("schemas", {}).setdefault(
            "Problem",
            {
                "type": "object",
                "title": "Problem",
                "description": "RFC 9457 problem details with a stable `code`",
                "properties": {
                    "type": {"type": "string"},
                    "title": {"type": "string"},
                    "status": {"type": "integer"},
                    "code": {"type": "string"},
                    "detail": {"type": "string"},
                    "instance": {"type": "string"},
                    "errors": {"type": "array", "items": {"type": "object"}},
                },
                "required": ["type", "title", "status", "code"],
                "additionalProperties": True,
            },
        )
        for path, item in schema.get("paths", {}).items():
            if not path.startswith("/api/"):
                continue
            for operation in item.values():
                if not isinstance(operation, dict) or "responses" not in operation:
                    continue
                responses = operation["responses"]
                for code, description in _COMMON_PROBLEMS.items():
                    entry = responses.setdefault(code, {"description": description})
                    content = entry.get("content") or {}
                    if "application/json" in content and code == "422" and "application/problem+json" not in content:
                        del content["application/json"]  # FastAPI's default; we answer problem+json
                    if "application/problem+json" not in content:
                        content.update(_PROBLEM_CONTENT)
                    entry["content"] = content
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def _not_ready(detail: str) -> Response:
    body = {
        "type": "/problems/not_ready",
        "title": "Service Unavailable",
        "status": 503,
        "code": "not_ready",
        "detail": detail,
    }
    return JSONResponse(body, status_code=503, media_type=PROBLEM_JSON)
