"""Helpers for stations tests: demo data, who is calling, a fixed clock."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import FastAPI

from doorstep_shared.clock import SHANGHAI, utcnow
from doorstep_stations import deps
from doorstep_stations.demo.service import seed

from ..directory_support import DEMO
from ..support import Tokens

KEEPER = "shuxiang.keeper"


async def seed_demo(app: FastAPI) -> None:
    async with app.state.sessionmaker() as session:
        await seed(session)
        await session.commit()


def keeper(tokens: Tokens, subject: str = KEEPER, community: str = "chaoyang") -> dict[str, str]:
    return tokens.headers("station_keeper", community=community, subject=subject)


def admin(tokens: Tokens, community: str = "chaoyang") -> dict[str, str]:
    return tokens.headers("community_admin", community=community, subject=f"{community}.admin")


def county(tokens: Tokens) -> dict[str, str]:
    return tokens.headers("county_admin", community=None, subject="county.admin")


def worker(tokens: Tokens, community: str = "chaoyang") -> dict[str, str]:
    return tokens.headers("social_worker", community=community, subject=f"{community}.worker")


def local(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=SHANGHAI)  # type: ignore[misc]


def freeze(app: FastAPI, when: dt.datetime) -> None:
    app.dependency_overrides[deps.now] = lambda: when


async def station_with_class(
    client: Any, tokens: Tokens, *, code: str = "testclass", community: str = "chaoyang"
) -> None:
    """A station kept by shuxiang.keeper with a class service ``painting``."""
    r = await client.post(
        "/api/v1/stations/stations",
        headers=county(tokens),
        json={
            "code": code,
            "name": f"{code}驿站",
            "community": community,
            "compound": DEMO.compounds_of(community)[0].code,
            "latitude": 31.71,
            "longitude": 118.36,
            "keepers": [KEEPER],
        },
    )
    assert r.status_code == 201, r.text
    r = await client.post(
        f"/api/v1/stations/stations/{code}/services",
        headers=county(tokens),
        json={"code": "painting", "name": "翰墨飘香", "kind": "class"},
    )
    assert r.status_code == 201, r.text


async def make_session(client: Any, tokens: Tokens, *, code: str = "testclass", **overrides: Any) -> dict[str, Any]:
    starts = overrides.pop("starts_at", utcnow() + dt.timedelta(days=3))
    body = {
        "title": "周六书画",
        "starts_at": starts.isoformat(),
        "ends_at": (starts + dt.timedelta(hours=2)).isoformat(),
        "capacity": 10,
        "max_seats_per_booking": 3,
    }
    body.update({k: (v.isoformat() if isinstance(v, dt.datetime) else v) for k, v in overrides.items()})
    r = await client.post(
        f"/api/v1/stations/stations/{code}/services/painting/sessions",
        headers=county(tokens),
        json=body,
    )
    assert r.status_code == 201, r.text
    data: dict[str, Any] = r.json()
    return data


def phone(n: int) -> str:
    return f"139{n:08d}"
