"""Helpers for the discovery tests: catalogue priming, runs, direct resident rows."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from typing import Any

import httpx
from fastapi import FastAPI

from doorstep_proxy.catalog_client import CatalogSnapshot
from doorstep_proxy.ledger.models import Resident, ResidentBenefit
from doorstep_shared.clock import utcnow

from ...support import Tokens
from ..helpers import BASE, app_of

__all__ = ["BASE", "add_resident", "app_of", "county_admin", "prime", "run", "wait_runs"]


def prime(client: httpx.AsyncClient, snapshot: CatalogSnapshot) -> FastAPI:
    app = app_of(client)
    app.state.catalog.prime(snapshot)
    return app


def county_admin(tokens: Tokens) -> dict[str, str]:
    return tokens.headers("county_admin", community=None, subject="county.admin")


async def wait_runs(app: FastAPI) -> None:
    for _ in range(200):
        tasks = list(app.state.__dict__.get("discovery_tasks", ()))
        if not tasks:
            return
        await asyncio.gather(*tasks)
    raise AssertionError("discovery tasks keep coming")


async def run(client: httpx.AsyncClient, headers: dict[str, str], scope: str = "county") -> dict[str, Any]:
    resp = await client.post(f"{BASE}/discovery/runs", json={"scope": scope}, headers=headers)
    assert resp.status_code in (200, 202), resp.text
    await wait_runs(app_of(client))
    done = await client.get(f"{BASE}/discovery/runs/{resp.json()['id']}", headers=headers)
    body: dict[str, Any] = done.json()
    return body


_serial = iter(range(10**6))


async def add_resident(
    app: FastAPI,
    *,
    birth: dt.date,
    gender: str = "male",
    compound: str = "binjiang",
    grid: str = "chaoyang-g6",
    community: str = "chaoyang",
    benefits: tuple[str, ...] = (),
    **facts: Any,
) -> uuid.UUID:
    """A resident row written directly (no personal data needed by discovery)."""
    now = utcnow()
    rid = uuid.uuid4()
    n = next(_serial)
    async with app.state.sessionmaker() as session:
        session.add(
            Resident(
                id=rid,
                community=community,
                grid=grid,
                compound_code=compound,
                building="1",
                unit="1",
                room=f"{n:04d}",
                name=f"测试{n}",
                id_number_enc="x",
                id_number_hash=rid.hex,
                id_last4="0000",
                pii_kid="k",
                birth_date=birth,
                gender=gender,
                created_at=now,
                created_by="t",
                updated_at=now,
                updated_by="t",
                **facts,
            )
        )
        await session.flush()
        for code in benefits:
            session.add(ResidentBenefit(resident_id=rid, item_code=code))
        await session.commit()
    return rid
