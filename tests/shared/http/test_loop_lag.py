"""The loop-lag probe: a call that blocks the event loop shows in the app's metrics."""

from __future__ import annotations

import asyncio
import gc
import time
from collections.abc import Callable
from pathlib import Path

from prometheus_client import CollectorRegistry

from doorstep_shared.app import AppState, create_service_app
from doorstep_shared.config import ServiceSettings
from doorstep_shared.http.loop_lag import GcPauses, LoopLagProbe, SlowCallbacks

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
        gc.collect(2)
        metrics = (await client.get("/metrics")).text
    assert 'doorstep_event_loop_lag_seconds_bucket{le="0.05",service="doorstep"}' in metrics
    full = next(
        line for line in metrics.splitlines() if line.startswith('doorstep_gc_pause_seconds_count{generation="2"')
    )
    assert float(full.split()[-1]) >= 1  # the collection above, timed
    assert AppState.of(app).gc_pauses not in gc.callbacks  # dropped with the app's lifespan
    maximum = next(line for line in metrics.splitlines() if line.startswith("doorstep_event_loop_lag_max_seconds{"))
    assert float(maximum.split()[-1]) >= BLOCK - 0.01


def test_the_probe_can_be_switched_off(tmp_path: Path) -> None:
    settings = ServiceSettings(database_url="sqlite+aiosqlite://", var_dir=tmp_path, loop_lag_probe_ms=0)
    app = create_service_app(
        settings=settings, title="demo", description="demo", package="doorstep_catalog", routers=[]
    )
    assert AppState.of(app).loop_lag is None
    assert AppState.of(app).gc_pauses is None


async def test_full_collections_are_timed_and_the_youngest_are_not() -> None:
    registry = CollectorRegistry()
    pauses = GcPauses("demo", registry)
    garbage = [[i] for i in range(200_000)]  # something for a full collection to walk
    async with pauses.timing():
        assert pauses in gc.callbacks
        gc.collect(0)
        gc.collect(2)
        gc.collect(1)
    assert pauses not in gc.callbacks
    gc.collect(2)  # after the block: not counted
    del garbage
    assert pauses.count[2] == 1 and pauses.count[1] >= 1  # (an automatic one may join the first)
    assert pauses.max_seconds[2] > 0
    labels = {"service": "demo", "generation": "2"}
    assert registry.get_sample_value("doorstep_gc_pause_seconds_count", labels) == 1
    assert registry.get_sample_value("doorstep_gc_pause_max_seconds", labels) == pauses.max_seconds[2]
    assert registry.get_sample_value("doorstep_gc_pause_seconds_count", {"service": "demo", "generation": "0"}) is None


async def test_slow_callbacks_are_counted_one_by_one_with_the_longest(tmp_path: Path) -> None:
    """With the slow-callback threshold set, a callback that held the loop longer than it is
    counted (one call of 120 ms: one, about 0.12 s), and many short ones that fill a turn
    together are not — what the busy lag cannot tell apart."""
    registry = CollectorRegistry()
    slow = SlowCallbacks("test", registry, threshold=0.05)
    loop = asyncio.get_running_loop()
    debug = loop.get_debug()
    async with slow.watching():
        assert loop.get_debug()
        await asyncio.sleep(0)  # callbacks are timed from the next one on
        time.sleep(BLOCK)  # noqa: ASYNC251 (the blocking call under test)
        await asyncio.sleep(0)
        for _ in range(10):  # ten short callbacks, 100 ms in all, none over the threshold
            loop.call_soon(time.sleep, 0.01)
        await asyncio.sleep(0.05)
    assert loop.get_debug() == debug
    assert slow.count == 1
    assert BLOCK <= slow.max_seconds < BLOCK + 0.1
    assert registry.get_sample_value("doorstep_event_loop_slow_callbacks_total", {"service": "test"}) == 1
    gauge = registry.get_sample_value("doorstep_event_loop_slow_callback_max_seconds", {"service": "test"})
    assert gauge == slow.max_seconds


async def test_an_app_with_the_threshold_set_exports_its_slow_callbacks(tmp_path: Path) -> None:
    settings = ServiceSettings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'app.db'}", var_dir=tmp_path, slow_callback_ms=50
    )
    app = create_service_app(
        settings=settings, title="demo", description="demo", package="doorstep_catalog", routers=[]
    )

    names = []

    @app.get("/block")
    async def block() -> dict[str, str]:
        time.sleep(BLOCK)  # noqa: ASYNC251 (the blocking call under test)
        task = asyncio.current_task()
        names.append(task.get_name() if task is not None else "")
        return {"status": "blocked"}

    async with running(app), client_for(app) as client:
        await asyncio.sleep(0)  # callbacks are timed from the next one on (a server's requests are tasks)
        assert (await client.get("/block")).status_code == 200
        await asyncio.sleep(0.01)  # the step that blocked has ended: asyncio has reported it
        metrics = (await client.get("/metrics")).text
    assert 'doorstep_event_loop_slow_callbacks_total{service="doorstep"} 1.0' in metrics
    assert names == ["GET /block"]  # asyncio's report names the request's task after it


async def test_the_start_up_collection_is_not_counted_as_a_pause_of_the_app_serving(tmp_path: Path) -> None:
    """The app's full collection before its first request (the start-up freeze) comes before the
    probes start: their "longest since start" is the app's serving, not its start-up."""
    settings = ServiceSettings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'app.db'}",
        var_dir=tmp_path,
        environment="test",
        loop_lag_probe_ms=5,
        gc_freeze_after_s=60,
    )
    app = create_service_app(
        settings=settings, title="demo", description="demo", package="doorstep_catalog", routers=[]
    )
    pauses = AppState.of(app).gc_pauses
    assert pauses is not None
    gc.unfreeze()
    try:
        async with running(app):
            assert gc.get_freeze_count() > 0  # the start-up collection and freeze happened
            assert pauses.count[2] == 0
            gc.collect(2)
            assert pauses.count[2] == 1
    finally:
        gc.unfreeze()
