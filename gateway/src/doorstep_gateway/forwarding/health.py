"""The gateway's view of the services behind it, from their own ``/readyz``.

A service that does not answer (or is not ready) is ``unavailable``; one that answers
``degraded`` (serving from a last good copy of something it depends on, e.g. the proxy's
catalogue) is ``degraded``, with how old its copy is. Read when ``/readyz``, ``/metrics`` or the
county figures are asked for (at most every few seconds): the gateway's own readiness never
depends on it (doorstep_shared.http.health says why).
"""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import httpx

from doorstep_shared.http.health import Dependencies, DependencyState

from .pool import Upstreams


def _parse(text: str | None) -> dt.datetime | None:
    try:
        return dt.datetime.fromisoformat(text) if text else None
    except ValueError:
        return None


def _judge(response: httpx.Response) -> tuple[DependencyState, dt.datetime | None, str]:
    if response.status_code != 200:
        return DependencyState.UNAVAILABLE, None, f"/readyz answered {response.status_code}"
    body: Any = response.json()
    deps = body.get("dependencies") or {} if isinstance(body, dict) else {}
    bad = {name: d for name, d in deps.items() if isinstance(d, dict) and d.get("state") != "ok"}
    if not bad:
        return DependencyState.OK, None, ""
    stale = [s for s in (_parse(d.get("stale_since")) for d in bad.values()) if s is not None]
    detail = ", ".join(f"{name} {d.get('state')}" for name, d in sorted(bad.items()))
    return DependencyState.DEGRADED, min(stale) if stale else None, detail


def watch_upstreams(dependencies: Dependencies, upstreams: Upstreams, *, timeout: float = 2.0) -> None:
    """Register every upstream as a dependency, with one probe asking them all at once."""

    async def one(name: str) -> None:
        try:
            response = await asyncio.wait_for(upstreams.clients[name].get("/readyz"), timeout)
            state, stale_since, detail = _judge(response)
        except (TimeoutError, httpx.HTTPError, OSError, ValueError, KeyError) as exc:
            state, stale_since, detail = DependencyState.UNAVAILABLE, None, f"not answering ({type(exc).__name__})"
        dependencies.mark(name, state, stale_since=stale_since, detail=detail)

    async def probe() -> None:
        await asyncio.gather(*(one(name) for name in upstreams.urls))

    for name in upstreams.urls:
        dependencies.register(name)
    dependencies.add_probe("upstreams", probe)
