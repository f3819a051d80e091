"""The loop-lag probe: a call that blocks the event loop shows in the app's metrics."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path

from prometheus_client import CollectorRegistry

from doorstep_shared.app import AppState, create_service_app
from doorstep_shared.config import ServiceSettings
from doorstep_shared.http.loop_lag import LoopLagProbe

from ...support import client_for, running

BLOCK = 0.12  # seconds the loop is held by a synchronous call


async def until(condition: Callable[[], bool], seconds: float = 5.0) -> None:
    async with asyncio.timeout(seconds):
        while not condition():  # noqa: ASYNC110 (polls what the probe under test changes)
            await asyncio.sleep(0.005)


def over_50ms(registry: CollectorRegistry, service: str) -> float:
    """Samples above 50 ms: all samples minus those in the 0.05 bucket."""
    total = registry.get_sample_value("doorstep_event_loop_lag_seconds_count", {"service": service}) or 0.0
    within = (
        registry.get_sample_value("doorstep_event_loop_lag_seconds_bucket", {"service": service, "le": "0.05"}) or 0.0
    )
    return total - within


async def test_a_blocking_call_on_the_loop_is_seen_as_lag_as_long_as_the_block() -> None:
    registry = CollectorRegistry()
    probe = LoopLagProbe("demo", registry, interval=0.005)
    async with probe.running():
        await until(lambda: probe.samples >= 3)
        quiet = over_50ms(registry, "demo")
        time.sleep(BLOCK)  # noqa: ASYNC251 (the blocking call the probe must see)
        seen = probe.samples
        await until(lambda: probe.samples > seen)
    assert quiet == 0
    assert probe.max_seconds >= BLOCK - 0.01
    assert over_50ms(registry, "demo") >= 1
    assert registry.get_sample_value("doorstep_event_loop_lag_max_seconds", {"service": "demo"}) == probe.max_seconds


async def test_a_blocking_call_counts_as_busy_and_a_thread_waiting_elsewhere_does_not() -> None:
    registry = CollectorRegistry()
    probe = LoopLagProbe("demo", registry, interval=0.005)
    async with probe.running():
        await until(lambda: probe.samples >= 1)
        time.sleep(BLOCK)  # noqa: ASYNC251 (held, but not on the CPU: a process waiting for a core looks so)
        seen = probe.samples
        await until(lambda: probe.samples > seen)
        assert probe.max_seconds >= BLOCK - 0.01
        assert probe.busy_max_seconds < BLOCK / 2
        spin_until = time.thread_time() + BLOCK  # CPU time: on a busy machine a core is shared
        while time.thread_time() < spin_until:  # code of ours holding the loop
            pass
        seen = probe.samples
        await until(lambda: probe.samples > seen)
    assert probe.busy_max_seconds >= BLOCK / 2
    busy_max = registry.get_sample_value("doorstep_event_loop_busy_lag_max_seconds", {"service": "demo"})
    assert busy_max == probe.busy_max_seconds


async def test_the_probe_stops_with_its_block() -> None:
    probe = LoopLagProbe("demo", CollectorRegistry(), interval=0.005)
    async with probe.running():
        await until(lambda: probe.samples >= 1)
    stopped = probe.samples
    await asyncio.sleep(0.03)
    assert probe.samples == stopped


async def test_a_service_app_runs_the_probe_and_exports_it_in_its_metrics(tmp_path: Path) -> None:
    settings = ServiceSettings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'app.db'}",
        var_dir=tmp_path,
        environment="test",
        loop_lag_probe_ms=5,
    )
    app = create_service_app(
        settings=settings, title="demo", description="demo", package="doorstep_catalog", routers=[]
    )
    probe = AppState.of(app).loop_lag
    assert probe is not None
    async with running(app), client_for(app) as client:
        await until(lambda: probe.samples >= 2)
        time.sleep(BLOCK)  # noqa: ASYNC251 (a handler that blocks, as far as the loop can tell)
        seen = probe.samples
        await until(lambda: probe.samples > seen)
        metrics = (await client.get("/metrics")).text
    assert 'doorstep_event_loop_lag_seconds_bucket{le="0.05",service="doorstep"}' in metrics
    maximum = next(line for line in metrics.splitlines() if line.startswith("doorstep_event_loop_lag_max_seconds{"))
    assert float(maximum.split()[-1]) >= BLOCK - 0.01


def test_the_probe_can_be_switched_off(tmp_path: Path) -> None:
    settings = ServiceSettings(database_url="sqlite+aiosqlite://", var_dir=tmp_path, loop_lag_probe_ms=0)
    app = create_service_app(
        settings=settings, title="demo", description="demo", package="doorstep_catalog", routers=[]
    )
    assert AppState.of(app).loop_lag is None
