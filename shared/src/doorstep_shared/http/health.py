"""How this process's network dependencies are doing: ``ok``, ``degraded`` or ``unavailable``.

``degraded`` means the app keeps serving from a last good copy (the proxy's catalogue), and
``unavailable`` that what needs the dependency cannot be served right now. Neither makes the
app unready: ``/readyz`` answers 503 only when the app itself cannot serve (its database), so
Kubernetes never takes healthy pods out of their Service because a neighbour is down; the body
says ``degraded`` and lists each dependency (deploy/README.md, "Readiness").

Each state change is one ERROR log line (a recovery too, so a log alert sees both ends), never
one per request; Prometheus sees ``doorstep_dependency_up`` and ``doorstep_dependency_stale_seconds``
per dependency. A *probe* (registered by the app) refreshes a dependency's state when
``/readyz`` or ``/metrics`` is read, at most every ``probe_interval`` seconds, so the state is
current even when no request has needed the dependency lately.
"""

from __future__ import annotations

import asyncio
import contextvars
import datetime as dt
import enum
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from prometheus_client import CollectorRegistry, Gauge
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..clock import utcnow

logger = logging.getLogger("doorstep.dependencies")

Probe = Callable[[], Awaitable[None]]


class DependencyState(enum.StrEnum):
    OK = "ok"
    DEGRADED = "degraded"
    UNAVAILABLE = "unavailable"


@dataclass
class Dependency:
    name: str
    state: DependencyState = DependencyState.OK
    since: dt.datetime | None = None  # when the current state began
    stale_since: dt.datetime | None = None  # degraded: how old the copy in use is
    detail: str = ""

    def read(self) -> dict[str, Any]:
        out: dict[str, Any] = {"state": self.state.value}
        if self.since is not None:
            out["since"] = self.since.isoformat()
        if self.stale_since is not None:
            out["stale_since"] = self.stale_since.isoformat()
        if self.detail:
            out["detail"] = self.detail
        return out


class Dependencies:
    """The app's dependencies by name (``app.state.dependencies``)."""

    def __init__(self, service: str, registry: CollectorRegistry, *, probe_interval: float = 5.0) -> None:
        self.service = service
        self.probe_interval = probe_interval
        self._deps: dict[str, Dependency] = {}
        self._probes: dict[str, Probe] = {}
        self._probed = 0.0
        self._lock = asyncio.Lock()
        self._up = Gauge(
            "doorstep_dependency_up",
            "1 when the dependency answers, 0 when degraded (serving a last good copy) or unavailable",
            ["dependency"],
            registry=registry,
        )
        self._stale = Gauge(
            "doorstep_dependency_stale_seconds",
            "Age of the last good copy in use while a dependency is degraded (0 when it is fresh)",
            ["dependency"],
            registry=registry,
        )

    def register(self, name: str, probe: Probe | None = None) -> Dependency:
        dep = self._deps.setdefault(name, Dependency(name))
        self._up.labels(name).set(1)
        self._stale.labels(name).set_function(lambda: self._stale_seconds(dep))
        if probe is not None:
            self.add_probe(name, probe)
        return dep

    def add_probe(self, key: str, probe: Probe) -> None:
        """One probe per key: a lifespan that runs again replaces its probe, never adds one."""
        self._probes[key] = probe

    @staticmethod
    def _stale_seconds(dep: Dependency) -> float:
        if dep.stale_since is None or dep.state is DependencyState.OK:
            return 0.0
        return max(0.0, (utcnow() - dep.stale_since).total_seconds())

    def get(self, name: str) -> Dependency:
        return self._deps.get(name) or self.register(name)

    def mark(
        self, name: str, state: DependencyState, *, stale_since: dt.datetime | None = None, detail: str = ""
    ) -> None:
        dep = self.get(name)
        dep.stale_since = stale_since if state is DependencyState.DEGRADED else None
        if state is dep.state:
            dep.detail = detail or dep.detail
            return
        previous, dep.state, dep.since, dep.detail = dep.state, state, utcnow(), detail
        self._up.labels(name).set(1 if state is DependencyState.OK else 0)
        logger.error(
            "dependency %s: %s -> %s%s",
            name,
            previous.value,
            state.value,
            f" ({detail})" if detail else "",
            extra={"dependency": name, "state": state.value, "previous_state": previous.value},
        )

    @property
    def worst(self) -> DependencyState:
        states = {d.state for d in self._deps.values()}
        for state in (DependencyState.UNAVAILABLE, DependencyState.DEGRADED):
            if state in states:
                return state
        return DependencyState.OK

    def not_ok(self) -> list[Dependency]:
        return [d for d in self._deps.values() if d.state is not DependencyState.OK]

    def read(self) -> dict[str, dict[str, Any]]:
        return {name: dep.read() for name, dep in sorted(self._deps.items())}

    async def probe(self, *, within: float = 3.0) -> None:
        """Run the probes if the last run is older than ``probe_interval`` (a failing probe marks
        its own dependency; nothing here raises)."""
        if not self._probes or time.monotonic() - self._probed < self.probe_interval:
            return
        async with self._lock:
            if time.monotonic() - self._probed < self.probe_interval:
                return
            self._probed = time.monotonic()
            results = await asyncio.gather(
                *(asyncio.wait_for(p(), within) for p in self._probes.values()), return_exceptions=True
            )
        for result in results:
            if isinstance(result, BaseException) and not isinstance(result, Exception):
                raise result
            if isinstance(result, Exception):
                logger.debug("dependency probe failed: %s", type(result).__name__)


# --- per-response markers ("this answer came from a stale copy") -----------------------------

_markers: contextvars.ContextVar[dict[str, str] | None] = contextvars.ContextVar("stale_markers", default=None)


def mark_response(header: str, value: str) -> None:
    """Have the current response carry ``header`` (outside a request: nothing happens)."""
    markers = _markers.get()
    if markers is not None:
        markers[header] = value


class ResponseMarkerMiddleware:
    """Adds the headers ``mark_response`` asked for to the response (pure ASGI: the dict is made
    here and filled in by whatever the request awaits, in this task or a copy of its context)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        markers: dict[str, str] = {}
        token = _markers.set(markers)

        async def send_marked(message: Message) -> None:
            if message["type"] == "http.response.start" and markers:
                headers = list(message.get("headers", []))
                headers.extend((k.lower().encode(), v.encode()) for k, v in markers.items())
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_marked)
        finally:
            _markers.reset(token)
