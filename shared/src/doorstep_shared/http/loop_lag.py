"""How late the event loop wakes: a probe that shows when something blocks an app's loop.

A background task sleeps ``interval`` seconds over and over and records how much later than
asked it woke up. While the loop runs only awaits, the lag is a millisecond or less; a
synchronous call on the loop (password hashing, a big JSON body, a long regex, a blocking
read) delays every request the process holds by its duration, and shows here as one sample
that long. A loop saturated by many short callbacks shows as many moderate samples.

Exported in the app's ``/metrics``:

- ``doorstep_event_loop_lag_seconds`` (histogram): every sample; the count above 0.05 s is the
  number of times the loop was held longer than 50 ms;
- ``doorstep_event_loop_lag_max_seconds`` (gauge): the longest since the process started.

One sample every ``interval`` costs a few microseconds of CPU: on by default
(``DOORSTEP_<APP>_LOOP_LAG_PROBE_MS``; 0 turns it off).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from prometheus_client import CollectorRegistry, Gauge, Histogram

BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class LoopLagProbe:
    """Samples the running loop's lag every ``interval`` seconds (see the module's documentation)."""

    def __init__(self, service: str, registry: CollectorRegistry, *, interval: float = 0.02) -> None:
        if interval <= 0:
            raise ValueError("interval must be positive")
        self.interval = interval
        self.max_seconds = 0.0
        self.samples = 0
        self._lag = Histogram(
            "doorstep_event_loop_lag_seconds",
            "How much later than asked the event loop woke a sleeping probe",
            ["service"],
            registry=registry,
            buckets=BUCKETS,
        ).labels(service)
        self._max = Gauge(
            "doorstep_event_loop_lag_max_seconds",
            "The longest event-loop lag since the process started",
            ["service"],
            registry=registry,
        ).labels(service)

    def record(self, lag: float) -> None:
        lag = max(lag, 0.0)
        self.samples += 1
        self._lag.observe(lag)
        if lag > self.max_seconds:
            self.max_seconds = lag
            self._max.set(lag)

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        interval = self.interval
        while True:
            asked = loop.time() + interval
            await asyncio.sleep(interval)
            self.record(loop.time() - asked)

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
