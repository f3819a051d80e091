"""The proxy's background work, in one place: what runs beside the requests, and how it stops.

- The webhook dispatcher (signed deliveries with retries, from the outbox) and the retention
  purge (with the sync tombstones' expiry), when ``background_enabled``
  (``DOORSTEP_PROXY_WORKER_ENABLED``; by default everywhere but the test environment).
- The discovery pass (the change queue, a crashed run resumed, the daily county run, a rules
  run after a catalogue change), outside the test environment: a lease in the database lets
  one replica work at a time.
- Discovery runs started by ``POST /discovery/runs``, once the request has committed.

A failed pass is reported and tried again after the loop's interval. Tests drive each step
themselves (``retention.service.run_once``, ``discovery.runs.tick``, the dispatcher).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from fastapi import FastAPI

from .catalog_client import CatalogSnapshot
from .discovery import runs
from .retention import service as retention
from .state import ProxyState, state_of

logger = logging.getLogger("doorstep.proxy")
retention_logger = logging.getLogger("doorstep.proxy.retention")
discovery_logger = logging.getLogger("doorstep.proxy.discovery")

RETENTION_DELAY = 30.0  # seconds after start-up before the first pass
DISCOVERY_DELAY = 5.0
DISCOVERY_INTERVAL = 30.0


async def repeat(
    step: Callable[[], Awaitable[Any]], *, delay: float, interval: float, failed: Callable[[Exception], None]
) -> None:
    """``step`` after ``delay`` seconds and then every ``interval``; ``failed`` reports a pass that
    raised (called inside the ``except``, so it may log the traceback)."""
    await asyncio.sleep(delay)
    while True:
        try:
            await step()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            failed(exc)
        await asyncio.sleep(interval)


def _retention_failed(exc: Exception) -> None:
    retention_logger.exception("retention purge pass failed")


def _discovery_failed(exc: Exception) -> None:  # catalogue not reachable yet, database busy
    discovery_logger.info("discovery background pass skipped: %s", type(exc).__name__)


async def retention_loop(state: ProxyState) -> None:
    settings = state.settings
    await repeat(
        lambda: retention.background_pass(
            state.sessionmaker, state.pii, settings.retention_days, state.retention_erased
        ),
        delay=RETENTION_DELAY,
        interval=settings.retention_interval,
        failed=_retention_failed,
    )


async def discovery_loop(app: FastAPI) -> None:
    await repeat(lambda: runs.tick(app), delay=DISCOVERY_DELAY, interval=DISCOVERY_INTERVAL, failed=_discovery_failed)


async def _quiet(work: Awaitable[Any]) -> Any:
    try:
        return await work
    except Exception:  # already logged and recorded on the run
        return None


def start_discovery_run(state: ProxyState, snapshot: CatalogSnapshot, run_id: int, owner: str) -> asyncio.Task[Any]:
    """Work through a run in the background; the task is kept (and cancelled at shutdown)."""
    task = asyncio.create_task(_quiet(runs.execute(state.sessionmaker, snapshot, run_id, owner)))
    state.discovery_tasks.add(task)
    task.add_done_callback(state.discovery_tasks.discard)
    return task


async def start_discovery_run_later(state: ProxyState, snapshot: CatalogSnapshot, run_id: int, owner: str) -> None:
    """For ``BackgroundTasks`` (after the request committed): start the run, do not wait."""
    start_discovery_run(state, snapshot, run_id, owner)


async def _stop(task: asyncio.Task[Any]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


@contextlib.asynccontextmanager
async def running(app: FastAPI) -> AsyncIterator[None]:
    """The app's background work from start-up to shutdown (the lifespan enters it last)."""
    state = state_of(app)
    settings = state.settings
    dispatcher = state.webhook_dispatcher
    stop = asyncio.Event()
    tasks: list[asyncio.Task[Any]] = []
    if settings.background_enabled:
        tasks.append(asyncio.create_task(dispatcher.run_forever(stop), name="proxy-webhooks"))
        tasks.append(asyncio.create_task(retention_loop(state), name="proxy-retention"))
    # The discovery pass keeps its own switch, as before: every environment but test.
    discovery = asyncio.create_task(discovery_loop(app)) if settings.environment != "test" else None
    try:
        yield
    finally:
        if discovery is not None:
            await _stop(discovery)
        for pending in list(state.discovery_tasks):
            pending.cancel()
        stop.set()
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await dispatcher.aclose()
        if tasks:
            logger.info("proxy background tasks stopped")
