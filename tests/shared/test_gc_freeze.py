"""When its start-up is done and again a minute later an app moves what it keeps for its life out
of the garbage collector's reach (``gc.freeze``), so that full collections no longer walk it
(bench/README.md)."""

from __future__ import annotations

import asyncio
import gc
from pathlib import Path

import pytest
from fastapi import FastAPI

from doorstep_shared.app import _gc_frozen_after, create_service_app
from doorstep_shared.config import ServiceSettings

from .. import support


async def test_the_freeze_comes_once_after_the_delay_and_not_when_switched_off(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    gc.unfreeze()  # whatever froze this test process before (a whole lane has run in it)
    kept = [object() for _ in range(10)]  # noqa: F841 (alive at the freeze)
    counted = []
    count = gc.get_freeze_count
    # The freeze inside the requests does not count what it froze (a walk of all of it).
    monkeypatch.setattr(gc, "get_freeze_count", lambda: counted.append(1) or count())
    try:
        async with _gc_frozen_after(0.05):
            assert count() == 0
            await asyncio.sleep(0.2)
            assert count() > 0
            assert not counted
        gc.unfreeze()
        async with _gc_frozen_after(0):
            await asyncio.sleep(0.1)
        assert gc.get_freeze_count() == 0
    finally:
        gc.unfreeze()


def _app(tmp_path: Path, freeze_after_s: float) -> FastAPI:
    settings = ServiceSettings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'app.db'}", var_dir=tmp_path, gc_freeze_after_s=freeze_after_s
    )
    return create_service_app(
        settings=settings, title="demo", description="demo", package="doorstep_catalog", routers=[]
    )


async def test_an_app_freezes_what_its_start_up_loaded_before_it_serves(tmp_path: Path) -> None:
    """At once, not a minute later (the later freeze is ``_gc_frozen_after``'s, tested above);
    never when switched off."""
    gc.unfreeze()
    try:
        async with support.running(_app(tmp_path, 60)):
            assert gc.get_freeze_count() > 0
        gc.unfreeze()
        async with support.running(_app(tmp_path, 0)):
            assert gc.get_freeze_count() == 0
    finally:
        gc.unfreeze()
