"""Background work: started when enabled, a failing pass or a crashed loop goes on, a clean stop."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import pytest

from doorstep_shared import background
from doorstep_shared.background import BackgroundWork


async def until(condition: Callable[[], bool], seconds: float = 5.0) -> None:
    async with asyncio.timeout(seconds):
        while not condition():  # noqa: ASYNC110 (polls what the tasks under test change)
            await asyncio.sleep(0.005)


async def test_tasks_run_under_their_names_and_stop_then_close_on_shutdown() -> None:
    passes: list[int] = []
    events: list[str] = []

    async def poll(stop: asyncio.Event) -> None:
        try:
            await stop.wait()
        finally:
            events.append("loop ended")

    async def close_client() -> None:
        events.append("closed client")

    async def close_cache() -> None:
        events.append("closed cache")

    async def count() -> None:
        passes.append(len(passes))

    work = BackgroundWork("demo")
    work.loop("poller", poll)
    work.every("counter", count, interval=0.01)
    work.on_shutdown(close_client)
    work.on_shutdown(close_cache)
    async with work.running():
        await until(lambda: len(passes) >= 3)
        assert {t.get_name() for t in work.tasks.values()} == {"demo-poller", "demo-counter"}
        assert not any(t.done() for t in work.tasks.values())
    assert all(t.done() for t in work.tasks.values())
    assert events == ["loop ended", "closed cache", "closed client"]


async def test_nothing_starts_when_disabled_but_shutdown_callbacks_run() -> None:
    closed: list[bool] = []

    async def close() -> None:
        closed.append(True)

    async def never(stop: asyncio.Event) -> None:
        raise AssertionError("must not run")

    work = BackgroundWork("demo", enabled=False)
    work.loop("never", never)
    work.on_shutdown(close)
    async with work.running():
        await asyncio.sleep(0.01)
        assert work.tasks == {}
    assert closed == [True]


async def test_a_failing_pass_is_logged_and_the_next_pass_runs(caplog: pytest.LogCaptureFixture) -> None:
    calls: list[int] = []

    async def flaky() -> None:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("boom")

    work = BackgroundWork("demo")
    work.every("flaky", flaky, interval=0.01)
    with caplog.at_level(logging.ERROR, logger="doorstep.demo.background"):
        async with work.running():
            await until(lambda: len(calls) >= 3)
    assert work.crashes["flaky"] == 1
    assert "demo flaky pass failed" in caplog.text


async def test_after_the_first_pass_that_did_not_fail_a_callback_runs_once() -> None:
    """What the proxy freezes after its first discovery pass (doorstep_proxy.background)."""
    events: list[str] = []

    async def step() -> None:
        events.append("pass")
        if len(events) == 1:
            raise RuntimeError("the catalogue is not up yet")

    work = BackgroundWork("demo")
    work.every("warm", step, interval=0.01, quiet=True, after_first_pass=lambda: events.append("settled"))
    async with work.running():
        await until(lambda: events.count("pass") >= 4)
    assert events[:3] == ["pass", "pass", "settled"]
    assert events.count("settled") == 1


async def test_the_first_pass_waits_for_the_delay_and_shutdown_does_not() -> None:
    calls: list[int] = []

    async def step() -> None:
        calls.append(1)

    work = BackgroundWork("demo")
    work.every("late", step, interval=0.01, delay=3600)
    async with asyncio.timeout(2), work.running():
        await asyncio.sleep(0.05)
    assert calls == []


async def test_a_crashed_loop_is_restarted_after_a_back_off(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(background, "RESTART_FIRST_DELAY", 0.01)
    runs: list[int] = []

    async def crashes_twice(stop: asyncio.Event) -> None:
        runs.append(1)
        if len(runs) == 1:
            raise RuntimeError("boom")
        if len(runs) == 2:
            return  # returning while the app runs is a crash too
        await stop.wait()

    work = BackgroundWork("demo")
    work.loop("dispatcher", crashes_twice)
    with caplog.at_level(logging.INFO, logger="doorstep.demo.background"):
        async with work.running():
            await until(lambda: len(runs) >= 3)
    assert work.crashes["dispatcher"] == 2
    assert "demo dispatcher crashed; restarting" in caplog.text
    assert "demo dispatcher returned while the app runs" in caplog.text
    assert "demo dispatcher stopped" in caplog.text


async def test_a_custom_logger_gets_the_start_and_stop_lines(caplog: pytest.LogCaptureFixture) -> None:
    async def step() -> None:
        return None

    work = BackgroundWork("stations", logger=logging.getLogger("doorstep.stations.worker"))
    work.every("worker", step, interval=5.0)
    with caplog.at_level(logging.INFO, logger="doorstep.stations"):
        async with work.running():
            await asyncio.sleep(0)
    assert "stations worker started (every 5.0s)" in caplog.text
    assert "stations worker stopped" in caplog.text


async def test_a_task_may_keep_its_own_switch_and_fail_quietly(caplog: pytest.LogCaptureFixture) -> None:
    passes: list[int] = []

    async def unreachable() -> None:
        passes.append(1)
        raise ConnectionError("the other service is still starting")

    async def never() -> None:
        raise AssertionError("a disabled task never runs")

    work = BackgroundWork("demo", enabled=False)
    work.every("discovery", unreachable, interval=0.01, enabled=True, quiet=True)
    work.every("retention", never, interval=0.01)
    with caplog.at_level(logging.INFO, logger="doorstep.demo.background"):
        async with work.running():
            await until(lambda: len(passes) >= 2)
    assert set(work.tasks) == {"discovery"}
    assert "demo discovery pass skipped: ConnectionError" in caplog.text
    assert "Traceback" not in caplog.text
