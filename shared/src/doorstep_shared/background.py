"""Background work in an app's lifespan: named tasks, started when enabled, stopped on shutdown.

The one way an app runs work beside its requests (an outbox dispatcher, a periodic purge)::

    work = BackgroundWork("proxy", enabled=settings.background_enabled)
    work.loop("webhooks", dispatcher.run_forever)          # a poll loop that takes a stop event
    work.every("retention", purge_pass, interval=3600.0, delay=30.0)   # one pass, now and then
    work.every("discovery", tick, interval=30.0, enabled=not testing, quiet=True)  # its own switch
    work.every("warm-up", fill, interval=60.0, after_first_pass=settle)  # settle() once, after a pass
    work.on_shutdown(dispatcher.aclose)                    # runs on shutdown, enabled or not
    async with work.running():
        yield                                              # the app serves requests

Each task is named ``<app>-<name>`` (``work.tasks[name]``). A pass of ``every`` that raises is
logged and the next one runs on time; a ``loop`` that raises or returns while the app runs is
logged and started again after a back-off (1 s, doubling up to a minute), so a bug never ends
background work silently; ``work.crashes[name]`` counts those. A ``quiet`` pass that fails
(one that fails in the ordinary course, e.g. while another service is still starting) is one
info line, not a traceback. On shutdown the stop event is
set, every task is cancelled and awaited, then the shutdown callbacks run, last added first.

Nothing important may depend on a task alone (a process can die at any time): work that must
happen is written to an outbox in the request's transaction and these tasks deliver it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any

Loop = Callable[[asyncio.Event], Awaitable[None]]
Step = Callable[[], Awaitable[Any]]
Closer = Callable[[], Awaitable[Any]]

RESTART_FIRST_DELAY = 1.0
RESTART_MAX_DELAY = 60.0


@dataclass(frozen=True)
class _Job:
    name: str
    body: Callable[[asyncio.Event], Coroutine[Any, Any, None]]
    started: str  # the log line when it starts
    enabled: bool | None  # None: as the BackgroundWork is


class BackgroundWork:
    """An app's background tasks (see the module's documentation)."""

    def __init__(self, app: str, *, enabled: bool = True, logger: logging.Logger | None = None) -> None:
        self.app = app
        self.enabled = enabled
        self.logger = logger or logging.getLogger(f"doorstep.{app}.background")
        self.tasks: dict[str, asyncio.Task[None]] = {}
        self.crashes: Counter[str] = Counter()
        self._jobs: list[_Job] = []
        self._closers: list[Closer] = []
        self._stop = asyncio.Event()

    def loop(self, name: str, run: Loop, *, enabled: bool | None = None) -> None:
        """Run ``run(stop)`` for the app's lifetime; it should return soon after ``stop`` is set.
        ``enabled`` overrides the BackgroundWork's switch for this task."""

        async def body(stop: asyncio.Event) -> None:
            await self._restarting(name, run, stop)

        self._jobs.append(_Job(name, body, "started", enabled))

    def every(
        self,
        name: str,
        step: Step,
        *,
        interval: float,
        delay: float = 0.0,
        enabled: bool | None = None,
        quiet: bool = False,
        after_first_pass: Callable[[], object] | None = None,
    ) -> None:
        """Run ``step()`` after ``delay`` seconds, then every ``interval`` seconds after each pass.
        ``enabled`` overrides the BackgroundWork's switch for this task; ``quiet`` logs a failed
        pass as one info line; ``after_first_pass()`` is called once, after the first pass that
        did not fail."""

        async def body(stop: asyncio.Event) -> None:
            settled = after_first_pass is None
            if await _stopped_within(stop, delay):
                return
            while True:
                try:
                    await step()
                    if not settled and after_first_pass is not None:
                        settled = True
                        after_first_pass()
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    self.crashes[name] += 1
                    if quiet:
                        self.logger.info("%s %s pass skipped: %s", self.app, name, type(exc).__name__)
                    else:
                        self.logger.exception("%s %s pass failed", self.app, name)
                if await _stopped_within(stop, interval):
                    return

        self._jobs.append(_Job(name, body, f"started (every {interval:.1f}s)", enabled))

    def on_shutdown(self, close: Closer) -> None:
        """Call ``close()`` on shutdown, after the tasks stopped (e.g. to close an HTTP client)."""
        self._closers.append(close)

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[BackgroundWork]:
        """Start the tasks (when enabled) for the body of the ``async with``; stop them after."""
        self._stop = asyncio.Event()
        for job in self._jobs:
            if self.enabled if job.enabled is None else job.enabled:
                self.tasks[job.name] = asyncio.create_task(job.body(self._stop), name=f"{self.app}-{job.name}")
                self.logger.info("%s %s %s", self.app, job.name, job.started)
        try:
            yield self
        finally:
            await self._shutdown()

    async def _shutdown(self) -> None:
        self._stop.set()
        for task in self.tasks.values():
            task.cancel()
        for name, task in self.tasks.items():
            with contextlib.suppress(asyncio.CancelledError):
                await task
            self.logger.info("%s %s stopped", self.app, name)
        for close in reversed(self._closers):
            await close()

    async def _restarting(self, name: str, run: Loop, stop: asyncio.Event) -> None:
        delay = RESTART_FIRST_DELAY
        while not stop.is_set():
            try:
                await run(stop)
            except asyncio.CancelledError:
                raise
            except Exception:
                self.logger.exception("%s %s crashed; restarting in %.0fs", self.app, name, delay)
            else:
                if stop.is_set():
                    return
                self.logger.error("%s %s returned while the app runs; restarting in %.0fs", self.app, name, delay)
            self.crashes[name] += 1
            if await _stopped_within(stop, delay):
                return
            delay = min(delay * 2, RESTART_MAX_DELAY)


async def _stopped_within(stop: asyncio.Event, seconds: float) -> bool:
    """Wait up to ``seconds``; True when ``stop`` was set meanwhile."""
    if seconds <= 0:
        return stop.is_set()
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)
    return stop.is_set()
