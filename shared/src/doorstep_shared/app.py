"""The common shape of a Doorstep service app: lifespan, errors, health, metrics, auth.

The composition root of the library: it builds on ``http/``, ``auth/`` and ``db/`` (which know
nothing of it), so it sits beside them rather than inside ``http/``.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gc
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any, Self

import httpx
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.datastructures import State
from starlette.requests import HTTPConnection

from .audit_anchor import AuditTrust
from .auth.security import document_bearer_token, public
from .auth.service_keys import service_trust
from .auth.tokens import KeySet, TokenVerifier
from .background import BackgroundWork
from .config import AuditSettings, ServiceSettings
from .db.audit import AuditLog
from .db.engine import create_engine, ping, write_intent
from .db.migrations import current_revision, head_revision, known_revisions

# The request's session reads the sessionmaker the lifespan below sets: part of the app's surface.
from .db.session import DbSession, WritesOnRead, make_sessionmaker, read_only_engine, writes_on_read
from .directory.model import Directory
from .http.compression import Compression
from .http.docs_pages import assets_mount, oauth2_redirect_page, redoc_page, swagger_page
from .http.errors import install_error_handlers, problem_response
from .http.health import Dependencies, DependencyState
from .http.loop_lag import GcPauses, LoopLagProbe, NamedRequestTasks, SlowCallbacks
from .http.observability import Metrics, RequestContextMiddleware, configure_logging
from .http.openapi import document_for_generators, operation_ids
from .http.problems import document_problems
from .http.query import reject_unknown_query

logger = logging.getLogger("doorstep.app")

# How often the audit log's entries past their retention are pruned: a pass walks the whole chain
# first, so once a day (the first pass 5 minutes after start-up) is plenty for a 180-day window.
AUDIT_PRUNE_SECONDS = 24 * 3600.0
AUDIT_PRUNE_FIRST_DELAY = 300.0

Lifespan = Callable[[FastAPI], contextlib.AbstractAsyncContextManager[None]]


class AppState(State):
    """An app's ``app.state`` as one typed object. ``create_service_app`` installs it (an app
    passes its subclass) and fills these; a subclass adds the app's own and each app reaches
    it through ``<App>State.of(request)``, never through an untyped attribute bag.

    Annotations only, never class-level defaults: ``State`` keeps values in a dict, and a class
    attribute would shadow what is set on the instance.
    """

    # When the app is built.
    settings: ServiceSettings
    metrics: Metrics
    dependencies: Dependencies  # the other services this one calls, and how they answer
    loop_lag: LoopLagProbe | None  # how late the event loop wakes (None: the probe is off)
    gc_pauses: GcPauses | None  # how long the garbage collector held it (with the probe)
    slow_callbacks: SlowCallbacks | None  # callbacks that held the loop too long (None: off)
    audit_trust: AuditTrust | None  # the audit chain's keys and anchor (None: the app keeps none)
    # In the lifespan.
    engine: AsyncEngine
    read_engine: AsyncEngine  # what ReadConnection reads on (db.session.read_only_engine)
    sessionmaker: async_sessionmaker[AsyncSession]
    http: httpx.AsyncClient
    key_set: KeySet
    verifier: TokenVerifier

    def tenancy_directory(self) -> Directory | None:
        """The directory a county role's communities are read from on every request: the app's
        copy as it is now (None: no copy yet, and a county role of a named county sees nothing).
        Each app with a directory overrides it."""
        return None

    @classmethod
    def of(cls, holder: HTTPConnection | FastAPI) -> Self:
        """The state of a request's app (or of the app itself)."""
        app = holder.app if isinstance(holder, HTTPConnection) else holder
        state = app.state
        if not isinstance(state, cls):
            raise TypeError(f"the app's state is not a {cls.__name__}: create_app installs it")
        return state


def get_engine(request: Request) -> AsyncEngine:
    engine: AsyncEngine = request.app.state.engine
    return engine


@contextlib.asynccontextmanager
async def _gc_frozen_after(seconds: float) -> AsyncIterator[None]:
    """``seconds`` after start, once: ``gc.collect(1)`` then ``gc.freeze()``. What a process keeps
    for its life (the catalogue copy and rule books, the directory, snapshots, SQLAlchemy's and
    pydantic's machinery) then sits in the permanent generation, and the full collections a busy
    process runs several times a minute walk only what was allocated since — each of them held
    the proxy's loop 130–170 ms under the mixed load (bench/README.md, "A county's peak").
    The app freezes once before that too, after a full collection, when its start-up is done
    (``freeze_alive`` in the lifespan, before it serves); this later freeze, inside the
    requests, collects only the young generations. Objects that become cyclic garbage after a
    freeze are not reclaimed."""

    async def freeze() -> None:
        await asyncio.sleep(seconds)
        # The young generations only: a full collection here walked all that the first minute
        # kept (105 ms of the proxy's loop under load). What of the old generation became
        # garbage in that minute is frozen with the rest: once, a minute's worth at most.
        freeze_alive(f"after {seconds:.0f} s", generation=1, serving=True)

    task = asyncio.create_task(freeze(), name="gc-freeze") if seconds > 0 else None
    try:
        yield
    finally:
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


def freeze_alive(when: str, generation: int = 2, *, serving: bool = False) -> None:
    """Collect ``generation`` and freeze what is then alive. ``serving``: the app takes requests,
    so only the young generations should be collected (``generation=1``) and the frozen objects
    are not counted. An app calls it when work that fills what it keeps for its life is done
    (the proxy after its first discovery pass: the catalogue copy, the rule books)."""
    gc.collect(generation)
    gc.freeze()
    if serving:
        # gc.get_freeze_count() walks the whole permanent generation: ~20 ms of the loop for the
        # proxy's 1.4 million objects (bench_mixed_load --slow-callbacks named this task, 55 ms).
        logger.info("gc: frozen again (%s)", when)
    else:
        logger.info("gc: %d objects frozen (%s)", gc.get_freeze_count(), when)


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
    state: AppState | None = None,
    audit_log: AuditLog | None = None,
) -> FastAPI:
    """Build a service app. ``package`` names the Python package holding ``migrations/``;
    ``state`` becomes ``app.state`` (an app's own :class:`AppState` subclass). With an
    ``audit_log`` (and :class:`AuditSettings`), its sessions carry the chain's keys and the chain
    is checkpointed to its anchor at start-up and every ``audit_checkpoint_seconds``."""
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
        app.state.read_engine = read_only_engine(engine)
        app.state.sessionmaker = make_sessionmaker(engine, audit=app.state.audit_trust)
        http = httpx.AsyncClient(timeout=httpx.Timeout(5.0, connect=2.0), follow_redirects=False)
        app.state.http = http
        keys = key_set or KeySet(url=settings.jwks_url, file=settings.jwks_file, http=http)
        app.state.key_set = keys
        app.state.verifier = TokenVerifier(
            keys,
            issuer=settings.jwt_issuer,
            audience=settings.jwt_audience,
            services=service_trust(
                settings.service_name,
                settings.trusted_service_keys,
                production=settings.is_production,
                directory=settings.service_keys_dir,
            ),
            directory=app.state.tenancy_directory,
        )
        probe, pauses, slow = app.state.loop_lag, app.state.gc_pauses, app.state.slow_callbacks
        try:
            async with (
                _gc_frozen_after(settings.gc_freeze_after_s),
                _audit_checkpoints(app, settings, audit_log),
                extra_lifespan(app) if extra_lifespan is not None else contextlib.nullcontext(),
            ):
                if settings.gc_freeze_after_s > 0:
                    freeze_alive("start-up done")  # before the first request (_gc_frozen_after)
                # The probes watch the app serving: start-up (imports, the full collection just
                # above, four apps starting on two cores) would set their "longest since start".
                async with (
                    probe.running() if probe is not None else contextlib.nullcontext(),
                    pauses.timing() if pauses is not None else contextlib.nullcontext(),
                    slow.watching() if slow is not None else contextlib.nullcontext(),
                ):
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
        docs_url=None,  # served below, from the app's own files (no CDN)
        redoc_url=None,
        openapi_url="/openapi.json" if docs else None,
        generate_unique_id_function=operation_ids(settings.service_name),
        # FastAPI's built-in OpenTelemetry hooks cost CPU on every request even when nothing
        # collects them; we export our own Prometheus metrics and JSON logs instead.
        telemetry={"tracing": False, "metrics": False, "logs": False, "operation_spans": False},
        # Every route answers 422 to a query parameter it does not read (doorstep_shared.http.query).
        dependencies=[Depends(reject_unknown_query)],
    )
    app.state = state if state is not None else AppState()
    app.state.settings = settings
    app.state.metrics = metrics
    # Built with the app (its metrics live in the app's registry), sampling while it serves.
    app.state.loop_lag = (
        LoopLagProbe(settings.service_name, metrics.registry, interval=settings.loop_lag_probe_ms / 1000)
        if settings.loop_lag_probe_ms > 0
        else None
    )
    app.state.gc_pauses = GcPauses(settings.service_name, metrics.registry) if settings.loop_lag_probe_ms > 0 else None
    app.state.slow_callbacks = (
        SlowCallbacks(settings.service_name, metrics.registry, threshold=settings.slow_callback_ms / 1000)
        if settings.slow_callback_ms > 0
        else None
    )
    app.state.audit_trust = settings.audit_trust() if isinstance(settings, AuditSettings) else None
    app.state.dependencies = dependencies = Dependencies(settings.service_name, metrics.registry)
    install_error_handlers(app)
    document_for_generators(app, list(extra_middleware), hooks=[document_bearer_token])
    for middleware_class, options in extra_middleware:
        app.add_middleware(middleware_class, **options)
    # Outside the app's own middleware (the forwarder, idempotency), which see plain bodies; a
    # forwarded answer a service compressed passes untouched (doorstep_shared.http.compression).
    if settings.compression_min_bytes > 0:
        app.add_middleware(Compression, minimum_size=settings.compression_min_bytes)
    # Outermost: request ids, metrics and security headers for every response.
    # Read on the first request, not here: building an app (for its OpenAPI document) touches no disk.
    cursor_key = functools.cache(settings.cursor_key)
    app.state.cursor_key = cursor_key
    app.add_middleware(RequestContextMiddleware, metrics=metrics, hsts=settings.is_production, cursor_key=cursor_key)
    if app.state.slow_callbacks is not None:
        app.add_middleware(NamedRequestTasks)  # asyncio's report of a slow callback names the request

    ops = APIRouter(tags=["operations"], dependencies=[Depends(public)])

    @ops.get("/healthz", summary="Liveness: the process is up")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @ops.get(
        "/readyz",
        summary="Readiness: database reachable and migrations at head (dependencies reported, never fatal)",
    )
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
        # A neighbour being down degrades this app, it does not make it unready (200 either way):
        # see doorstep_shared.http.health.
        await dependencies.probe()
        status = "ready" if dependencies.worst is DependencyState.OK else "degraded"
        return JSONResponse({"status": status, "revision": revision, "dependencies": dependencies.read()})

    @ops.get("/metrics", summary="Prometheus metrics", include_in_schema=False)
    async def metrics_endpoint() -> Response:
        await dependencies.probe()
        return metrics.render()

    app.include_router(ops)
    if docs:
        app.include_router(_docs_router(title))
    if settings.docs_enabled:  # the gateway serves its own pages, on these same files
        app.router.routes.append(assets_mount())
    for router in routers:
        app.include_router(router)
    document_problems(app)
    return app


@contextlib.asynccontextmanager
async def _audit_checkpoints(
    app: FastAPI, settings: ServiceSettings, audit_log: AuditLog | None
) -> AsyncIterator[None]:
    """Checkpoint the audit chain at start-up (which also pins where unkeyed entries from before
    the keys end), then every ``audit_checkpoint_seconds``: the window in which the newest
    entries could be deleted unseen is that long. Once a day, entries older than
    ``audit_retention_days`` are pruned behind a pruning checkpoint (``AuditLog.prune``)."""
    if audit_log is None or app.state.audit_trust is None or not isinstance(settings, AuditSettings):
        yield
        return

    async def checkpoint() -> None:
        async with app.state.sessionmaker() as session:
            await audit_log.checkpoint(session)

    try:
        await checkpoint()
    except Exception as exc:  # the database may be down or not migrated yet: /readyz says so
        logger.warning("audit checkpoint at start-up failed (%s); the periodic one will retry", type(exc).__name__)

    async def prune() -> None:
        await prune_expired_audit(app, audit_log)

    work = BackgroundWork(settings.service_name, enabled=settings.audit_checkpoint_seconds > 0, logger=logger)
    interval = settings.audit_checkpoint_seconds or 1.0
    work.every("audit-checkpoint", checkpoint, interval=interval, delay=interval)
    work.every(
        "audit-retention",
        prune,
        interval=AUDIT_PRUNE_SECONDS,
        delay=AUDIT_PRUNE_FIRST_DELAY,
        enabled=settings.audit_retention_days > 0,
    )
    async with work.running():
        yield


async def prune_expired_audit(app: FastAPI, audit_log: AuditLog) -> int:
    """One retention pass: prune the entries older than the app's ``audit_retention_days``
    (its settings as they are now) and commit; returns how many went."""
    token = write_intent.set(True)  # a transaction from the first statement (SQLite: the write lock)
    try:
        async with app.state.sessionmaker() as session:
            pruned = await audit_log.prune_expired(session, app.state.settings.audit_retention_days)
            await session.commit()  # what was pruned, or that a broken chain was not
    finally:
        write_intent.reset(token)
    return pruned


def _docs_router(title: str) -> APIRouter:
    """``/docs``, ``/docs/oauth2-redirect`` and ``/redoc`` on the app's own document (public:
    the pages hold no data, the document is public too)."""
    router = APIRouter(include_in_schema=False, dependencies=[Depends(public)])

    @router.get("/docs")
    async def swagger() -> HTMLResponse:
        return swagger_page("/openapi.json", f"{title} — API")

    @router.get("/docs/oauth2-redirect")
    async def swagger_redirect() -> HTMLResponse:
        return oauth2_redirect_page()

    @router.get("/redoc")
    async def redoc() -> HTMLResponse:
        return redoc_page("/openapi.json", f"{title} — API reference")

    return router


def _not_ready(detail: str) -> Response:
    return problem_response(503, "not_ready", detail)


__all__ = [
    "AppState",
    "DbSession",
    "Lifespan",
    "WritesOnRead",
    "create_service_app",
    "get_engine",
    "prune_expired_audit",
    "writes_on_read",
]
