"""How late the event loop wakes: a probe that shows when something blocks an app's loop.

A background task sleeps ``interval`` seconds over and over and records how much later than
asked it woke up. While the loop runs only awaits, the lag is a millisecond or less; a
synchronous call on the loop (password hashing, a big JSON body, a long regex, a blocking
read) delays every request the process holds by its duration, and shows here as one sample
that long. A loop saturated by many short callbacks shows as many moderate samples.

Exported in the app's ``/metrics``:

- ``doorstep_event_loop_lag_seconds`` (histogram): every sample; the count above 0.05 s is the
  number of times the loop was held longer than 50 ms;
- ``doorstep_event_loop_lag_max_seconds`` (gauge): the longest since the process started;
- ``doorstep_event_loop_busy_lag_seconds`` (histogram) and ``…_busy_lag_max_seconds`` (gauge):
  the part of each lag the loop's own thread spent on the CPU (``time.thread_time``). A lag
  the thread did not spend running is the process waiting for a core (a busy machine) or for
  the GIL, not code of ours blocking the loop; a busy lag is ours.

One sample every ``interval`` costs a few microseconds of CPU: on by default
(``DOORSTEP_<APP>_LOOP_LAG_PROBE_MS``; 0 turns it off).

The probe cannot tell one call that held the loop 120 ms from forty ready requests the loop ran
back to back in one turn (a saturated process): both are a busy lag. ``SlowCallbacks`` can:
with ``DOORSTEP_<APP>_SLOW_CALLBACK_MS`` set, the loop runs in asyncio's debug mode, which times
every callback (a task's step between two awaits, a protocol's data handler) and logs each one
that ran longer than the threshold, naming it. Exported:

- ``doorstep_event_loop_slow_callbacks_total`` (counter) and
  ``doorstep_event_loop_slow_callback_max_seconds`` (gauge): callbacks over the threshold and
  the longest since start; the WARNING line ``Executing <Task … name='GET /api/v1/…' …> took
  0.123 seconds`` names it (``NamedRequestTasks`` names each request's task after its route).

Debug mode costs CPU (every callback timed, coroutine origins tracked): a diagnostic, off by default.

A busy lag can also be the garbage collector: a collection of the oldest generation walks every
tracked object the process holds, on the loop's thread, between two callbacks. ``GcPauses``
(on with the probe) times the collections of generations 1 and 2 through ``gc.callbacks``:

- ``doorstep_gc_pause_seconds{generation}`` (histogram) and ``doorstep_gc_pause_max_seconds``
  (gauge): each collection's duration, and the longest since start. Generation 0's collections
  (many a second, each well under a millisecond) are not timed: a two-call hook is all they cost.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from starlette.types import ASGIApp, Receive, Scope, Send

BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


def _series(registry: CollectorRegistry, service: str, name: str, text: str) -> tuple[Any, Any]:
    """A histogram of the samples and a gauge of the longest since start."""
    histogram = Histogram(f"doorstep_event_loop_{name}_seconds", text, ["service"], registry=registry, buckets=BUCKETS)
    return histogram.labels(service), _longest(registry, service, name, f"{text}: the longest since start")


def _longest(registry: CollectorRegistry, service: str, name: str, text: str) -> Any:
    """The gauge ``doorstep_event_loop_<name>_max_seconds`` of this service."""
    return Gauge(f"doorstep_event_loop_{name}_max_seconds", text, ["service"], registry=registry).labels(service)


class LoopLagProbe:
    """Samples the running loop's lag every ``interval`` seconds (see the module's documentation)."""

    def __init__(self, service: str, registry: CollectorRegistry, *, interval: float = 0.02) -> None:
        if interval <= 0:
            raise ValueError("interval must be positive")
        self.interval = interval
        self.max_seconds = 0.0
        self.samples = 0
        self.busy_max_seconds = 0.0
        self._lag, self._max = _series(registry, service, "lag", "How much later than asked the loop woke the probe")
        self._busy, self._busy_max = _series(
            registry, service, "busy_lag", "The part of an event-loop lag the loop's thread spent on the CPU"
        )

    def record(self, lag: float, cpu: float | None = None) -> None:
        """One sample: ``lag`` seconds late; ``cpu``: the loop thread's CPU seconds over the
        sample's whole wait (None: as long as the lag, i.e. all of it was ours)."""
        lag = max(lag, 0.0)
        busy = lag if cpu is None else min(lag, max(cpu, 0.0))
        self.samples += 1
        self._lag.observe(lag)
        self._busy.observe(busy)
        if lag > self.max_seconds:
            self.max_seconds = lag
            self._max.set(lag)
        if busy > self.busy_max_seconds:
            self.busy_max_seconds = busy
            self._busy_max.set(busy)

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        interval = self.interval
        while True:
            asked = loop.time() + interval
            cpu = time.thread_time()
            await asyncio.sleep(interval)
            self.record(loop.time() - asked, time.thread_time() - cpu)

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """The probe runs while the block does (an app's lifespan)."""
        task = asyncio.create_task(self.run(), name="loop-lag-probe")
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


class GcPauses:
    """Times the garbage collections of generations 1 and 2 (see the module's documentation)."""

    TIMED = (1, 2)

    def __init__(self, service: str, registry: CollectorRegistry) -> None:
        self.max_seconds = dict.fromkeys(self.TIMED, 0.0)
        self.count = dict.fromkeys(self.TIMED, 0)
        self._started = 0.0
        histogram = Histogram(
            "doorstep_gc_pause_seconds",
            "How long a garbage collection held the process (generations 1 and 2)",
            ["service", "generation"],
            registry=registry,
            buckets=BUCKETS,
        )
        longest = Gauge(
            "doorstep_gc_pause_max_seconds",
            "The longest garbage collection since start, per generation",
            ["service", "generation"],
            registry=registry,
        )
        self._histogram = {g: histogram.labels(service, str(g)) for g in self.TIMED}
        self._longest = {g: longest.labels(service, str(g)) for g in self.TIMED}

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        generation = info["generation"]
        if generation == 0:
            return
        if phase == "start":
            self._started = time.perf_counter()
            return
        self.record(generation, time.perf_counter() - self._started)

    def record(self, generation: int, seconds: float) -> None:
        self.count[generation] += 1
        self._histogram[generation].observe(seconds)
        if seconds > self.max_seconds[generation]:
            self.max_seconds[generation] = seconds
            self._longest[generation].set(seconds)

    @contextlib.asynccontextmanager
    async def timing(self) -> AsyncIterator[None]:
        """Collections are timed while the block runs (an app's lifespan): a process that builds
        many apps (the tests) drops each hook with its app."""
        gc.callbacks.append(self)
        try:
            yield
        finally:
            gc.callbacks.remove(self)


class SlowCallbacks(logging.Handler):
    """Counts the event-loop callbacks that ran longer than ``threshold`` seconds, from asyncio's
    debug-mode report of each (see the module's documentation)."""

    def __init__(self, service: str, registry: CollectorRegistry, *, threshold: float) -> None:
        super().__init__(logging.WARNING)
        if threshold <= 0:
            raise ValueError("threshold must be positive")
        self.threshold = threshold
        self.count = 0
        self.max_seconds = 0.0
        self._count = Counter(
            "doorstep_event_loop_slow_callbacks",
            "Event-loop callbacks that ran longer than the slow-callback threshold",
            ["service"],
            registry=registry,
        ).labels(service)
        self._max = _longest(
            registry, service, "slow_callback", "The longest event-loop callback over the threshold since start"
        )

    def emit(self, record: logging.LogRecord) -> None:
        # asyncio and uvloop alike: logger.warning("Executing %s took %.3f seconds", handle, seconds)
        if not (isinstance(record.msg, str) and record.msg.startswith("Executing ")):
            return
        args = record.args if isinstance(record.args, tuple) else ()
        seconds = args[-1] if args and isinstance(args[-1], float) else self.threshold
        self.count += 1
        self._count.inc()
        if seconds > self.max_seconds:
            self.max_seconds = seconds
            self._max.set(seconds)

    @contextlib.asynccontextmanager
    async def watching(self) -> AsyncIterator[None]:
        """The running loop in debug mode, its slow callbacks counted, while the block runs."""
        loop = asyncio.get_running_loop()
        debug, duration = loop.get_debug(), loop.slow_callback_duration
        asyncio_logger = logging.getLogger("asyncio")
        if not asyncio_logger.isEnabledFor(logging.WARNING):  # a quieter log level must not hide them
            asyncio_logger.setLevel(logging.WARNING)
        asyncio_logger.disabled = False
        loop.set_debug(True)
        loop.slow_callback_duration = self.threshold
        asyncio_logger.addHandler(self)
        try:
            yield
        finally:
            asyncio_logger.removeHandler(self)
            loop.slow_callback_duration = duration
            loop.set_debug(debug)


class NamedRequestTasks:
    """Names each HTTP request's task after the request (``GET /api/v1/proxy/leads``), so that
    asyncio's report of a slow callback says which request it was. Installed with
    ``SlowCallbacks`` only."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        task = asyncio.current_task()
        if scope["type"] == "http" and task is not None:
            task.set_name(f"{scope['method']} {scope['path']}")
        await self.app(scope, receive, send)
