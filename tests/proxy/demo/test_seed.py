from __future__ import annotations

import datetime as dt
import time

import httpx
import pytest
from sqlalchemy import func, select

from doorstep_proxy.demo import generate
from doorstep_proxy.ledger.models import Resident
from doorstep_proxy.seed import seed
from doorstep_shared.pii import id_number_checksum_ok

from ...support import Tokens
from ..helpers import BASE, app_of, worker

pytestmark = pytest.mark.dates


def test_demo_generation_is_deterministic_and_valid() -> None:
    today = dt.date(2026, 11, 28)
    a, b = generate(500, today=today), generate(500, today=today)
    assert [p.id_number for p in a] == [p.id_number for p in b]
    assert all(id_number_checksum_ok(p.id_number) and p.id_number.startswith("340523") for p in a)
    assert len({p.id_number for p in a}) == len(a)
    assert not any("卜" in p.name for p in a)


async def test_seed_is_idempotent_fast_and_tells_the_story(proxy: httpx.AsyncClient, tokens: Tokens) -> None:
    app = app_of(proxy)
    started = time.perf_counter()
    async with app.state.sessionmaker() as session:
        await seed(session, app.state.pii)
        await session.commit()
    elapsed = time.perf_counter() - started
    assert elapsed < 10
    async with app.state.sessionmaker() as session:
        await seed(session, app.state.pii)
        await session.commit()
        total = (await session.execute(select(func.count()).select_from(Resident))).scalar_one()
    assert total > 2500
    lead = await proxy.get(
        f"{BASE}/residents",
        params={
            "compound": "binjiang",
            "disability_type": "physical",
            "disability_grade": 2,
            "without_benefit": "severe-disability-care-subsidy",
            "limit": 200,
        },
        headers=worker(tokens),
    )
    assert any(r["building"] == "6" and r["room"] == "502" for r in lead.json()["items"])
    turning = await proxy.get(
        f"{BASE}/residents",
        params={"compound": "binjiang", "building": "3", "room": "301"},
        headers=worker(tokens),
    )
    ages = [r for r in turning.json()["items"] if r["age"] == 79 and r["living_alone"]]
    assert ages
    team = await proxy.get(f"{BASE}/grids/chaoyang-g6/team", headers=worker(tokens))
    assert "chaoyang.worker" in [w["username"] for w in team.json()["workers"]]
    f = (await proxy.get(f"{BASE}/figures", params={"from": "2020-01-01"}, headers=worker(tokens))).json()
    assert f["ledger"]["elderly_80"] > 0 and f["demands"]["total"] > 0
