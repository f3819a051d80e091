"""The background worker: started by the app's lifespan, sends notifications, stops cleanly."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest

from doorstep_stations.config import StationsSettings
from doorstep_stations.main import create_app

from ..support import Tokens, client_for, create_database, drop_database, running
from .helpers import keeper, seed_demo

pytestmark = pytest.mark.dates

API = "/api/v1/stations"


async def test_lifespan_worker_sends_ready_notification_and_stops_on_shutdown(
    db_backend: str, tokens: Tokens, tmp_path: Path
) -> None:
    db = await create_database("doorstep_stations", db_backend, tmp_path)
    settings = StationsSettings(
        environment="test",
        database_url=db.url,
        database_schema=db.schema,
        log_json=False,
        worker_enabled=True,
        worker_interval=0.05,
        var_dir=tmp_path / "var",
    )
    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append  # type: ignore[method-assign]
    log = logging.getLogger("doorstep.stations")
    log.addHandler(handler)
    try:
        async with running(create_app(settings, key_set=tokens.key_set())) as app:
            task = app.state.worker_task
            assert task is not None and not task.done()
            await seed_demo(app)
            async with client_for(app) as client:
                hk = keeper(tokens)
                r = await client.post(
                    f"{API}/stations/shuxiang/tickets",
                    headers=hk,
                    json={
                        "name": "赵敏",
                        "phone": "13655554321",
                        "item": "外套",
                        "request": "换拉链",
                    },
                )
                ticket = r.json()
                await client.post(f"{API}/tickets/{ticket['id']}/status", headers=hk, json={"status": "ready"})
                items: list = []
                for _ in range(100):
                    items = (await client.get(f"{API}/notifications", headers=hk)).json()["items"]
                    if items:
                        break
                    await asyncio.sleep(0.05)
                assert [n["kind"] for n in items] == ["ticket.ready"]
        assert task.done()
    finally:
        log.removeHandler(handler)
        await drop_database(db)
    logged = "\n".join(r.getMessage() for r in records)
    assert "136****4321" in logged and "13655554321" not in logged
    assert "stations worker stopped" in logged


def test_production_needs_real_pii_keys() -> None:
    with pytest.raises(ValueError, match="PII_KEYS"):
        StationsSettings(environment="production", database_url="sqlite+aiosqlite:///x.db")
