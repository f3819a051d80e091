"""Shared helpers for the proxy tests: headers per demo role, valid ID numbers, seeding."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

import httpx
from fastapi import FastAPI

from doorstep_proxy.demo import make_id_number
from doorstep_proxy.seed import seed_compounds
from doorstep_proxy.workers import service as workers
from doorstep_shared.staff_roster import StaffRecord

from ..support import Tokens

BASE = "/api/v1/proxy"
_serial = itertools.count(101)


def app_of(client: httpx.AsyncClient) -> FastAPI:
    app: FastAPI = client._transport.app  # type: ignore[attr-defined]
    return app


async def enrol(
    client: httpx.AsyncClient,
    username: str,
    grid: str | None,
    community: str = "chaoyang",
    *,
    display_name: str = "测试员",
    active: bool = True,
) -> None:
    """A social worker's staff record, applied as the gateway's roster would bring it (workers
    are staff accounts: the proxy's API cannot add one)."""
    record = StaffRecord(username, display_name, ("social_worker",), "hexian", community, grid, (), active)
    async with app_of(client).state.sessionmaker() as session:
        await workers.enrol(session, [record])
        await session.commit()


async def with_compounds(client: httpx.AsyncClient) -> None:
    state = app_of(client).state
    async with state.sessionmaker() as session:
        await seed_compounds(session, state.directory.directory())
        await session.commit()


# Not the demo county's region: the demo's invented residents (born on any day, any serial) never
# hold a number these tests make, whatever order the tests run in.
TEST_REGION = "110101"


def id_number(birth: dt.date = dt.date(1969, 9, 14), gender: str = "male") -> str:
    return make_id_number(birth, next(_serial) * 2 % 1000, gender, region=TEST_REGION)


def worker(tokens: Tokens, community: str = "chaoyang") -> dict[str, str]:
    return tokens.headers("social_worker", community=community, grid=f"{community}-g6", subject=f"{community}.worker")


def admin(tokens: Tokens, community: str = "chaoyang") -> dict[str, str]:
    return tokens.headers("community_admin", community=community, subject=f"{community}.admin")


def auditor(tokens: Tokens) -> dict[str, str]:
    return tokens.headers("auditor", community=None, subject="county.auditor")


def resident_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "江明远",
        "id_number": id_number(),
        "phone": "13812345678",
        "compound": "binjiang",
        "building": "6",
        "unit": "2",
        "room": "502",
        "disability_type": "physical",
        "disability_grade": 2,
        "hukou_local": True,
    }
    body.update(overrides)
    return body


async def create(client: httpx.AsyncClient, headers: dict[str, str], **overrides: Any) -> dict[str, Any]:
    resp = await client.post(f"{BASE}/residents", json=resident_body(**overrides), headers=headers)
    assert resp.status_code == 201, resp.text
    data: dict[str, Any] = resp.json()
    return data
