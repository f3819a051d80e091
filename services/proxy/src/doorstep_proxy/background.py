"""The proxy's background work, in one place: what runs beside the requests, and how it stops.

- The webhook dispatcher (signed deliveries with retries, from the outbox) and the retention
  purge (with the sync tombstones' expiry), when ``background_enabled``
  (``DOORSTEP_PROXY_WORKER_ENABLED``; by default everywhere but the test environment).
- The discovery pass (the change queue, a crashed run resumed, the daily county run, a rules
  run after a catalogue change), outside the test environment: a lease in the database lets
  one replica work at a time.
- Discovery runs started by ``POST /discovery/runs``, once the request has committed.

The first two are ``doorstep_shared.background.BackgroundWork`` tasks (a failed pass is reported
and tried again after the interval, a crashed loop restarted); a run started by a request is a
task of its own, kept in ``state.discovery_tasks`` and cancelled at shutdown. Tests drive each step
themselves (``retention.service.run_once``, ``discovery.runs.tick``, the dispatcher).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI

from doorstep_shared.app import freeze_alive
from doorstep_shared.background import BackgroundWork
from doorstep_shared.directory import Directory
from doorstep_shared.directory_copy import Listener
from doorstep_shared.staff_roster import StaffRoster

from .catalog_client import CatalogSnapshot
from .discovery import runs
from .placement import service as placement
from .retention import service as retention
from .state import ProxyState, state_of
from .workers import service as workers

RETENTION_DELAY = 30.0  # seconds after start-up before the first pass
DISCOVERY_DELAY = 5.0
DISCOVERY_INTERVAL = 30.0


def background_work(app: FastAPI) -> BackgroundWork:
    """The proxy's tasks; the lifespan runs them (``async with background_work(app).running()``)."""
    state = state_of(app)
    settings = state.settings
    dispatcher = state.webhook_dispatcher
    work = BackgroundWork("proxy", enabled=settings.background_enabled)
    work.loop("webhooks", dispatcher.run_forever)
    work.every(
        "retention",
        lambda: retention.background_pass(
            state.sessionmaker, state.pii, settings.retention_days, state.retention_erased
        ),
        interval=settings.retention_interval,
        delay=RETENTION_DELAY,
    )
    # The discovery pass keeps its own switch: every environment but test. A skipped pass
    # (catalogue not reachable yet, database busy) is ordinary, so it is quiet. The first that
    # completes has fetched the catalogue, compiled its rule books and (on a fresh county) made
    # the county run: what it keeps is frozen then, not at the app's later timed freeze, so the
    # full collections of the app's first minute do not walk it (bench/README.md, "The token
    # checked once, and the garbage of the first minute").
    work.every(
        "discovery",
        lambda: runs.tick(app),
        interval=DISCOVERY_INTERVAL,
        delay=DISCOVERY_DELAY,
        enabled=settings.environment != "test",
        quiet=True,
        after_first_pass=_settled if settings.gc_freeze_after_s > 0 else None,
    )
    work.on_shutdown(dispatcher.aclose)
    work.on_shutdown(lambda: _cancel_discovery_runs(state))
    return work


def _settled() -> None:
    freeze_alive("first discovery pass done", generation=1, serving=True)


async def _quiet(work: Awaitable[Any]) -> Any:
    try:
        return await work
    except Exception:  # already logged and recorded on the run
        return None


def start_discovery_run(state: ProxyState, snapshot: CatalogSnapshot, run_id: int, owner: str) -> asyncio.Task[Any]:
    """Work through a run in the background; the task is kept (and cancelled at shutdown)."""
    work = runs.execute(state.sessionmaker, snapshot, run_id, owner, directory=state.tenancy_directory())
    task = asyncio.create_task(_quiet(work))
    state.discovery_tasks.add(task)
    task.add_done_callback(state.discovery_tasks.discard)
    return task


async def start_discovery_run_later(state: ProxyState, snapshot: CatalogSnapshot, run_id: int, owner: str) -> None:
    """For ``BackgroundTasks`` (after the request committed): start the run, do not wait."""
    start_discovery_run(state, snapshot, run_id, owner)


async def _cancel_discovery_runs(state: ProxyState) -> None:
    """A run cut short is resumed by the next discovery pass (its progress is in the database).
    The cancelled tasks are awaited, so each closes its session before the engine is disposed
    (left pending, a run's database connection was dropped unclosed: a ResourceWarning)."""
    pending = list(state.discovery_tasks)
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)


def placement_listener(state: ProxyState) -> Listener:
    """Each new directory revision, applied to the ledger in a transaction of its own."""

    async def apply(before: Directory | None, after: Directory) -> None:
        async with state.sessionmaker() as session:
            await placement.follow(session, after)
            await session.commit()

    return apply


def roster_listener(state: ProxyState) -> Callable[[StaffRoster], Awaitable[None]]:
    """Each new staff roster revision, applied to the worker roster in a transaction of its own."""

    async def apply(roster: StaffRoster) -> None:
        async with state.sessionmaker() as session:
            await workers.follow_roster(session, roster)
            await session.commit()

    return apply
