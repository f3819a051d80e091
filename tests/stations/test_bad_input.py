"""Hostile input gets a 4xx naming the field, never a 500."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from ..support import Tokens
from .helpers import county, make_session, seed_demo, station_with_class

API = "/api/v1/stations"


@pytest.mark.parametrize(
    ("method", "path", "params", "body"),
    [
        ("get", "/stations", {"lat": "nan", "lon": "118"}, None),
        ("get", "/stations", {"lat": "31", "lon": "inf"}, None),
        ("get", "/stations", {"cursor": "!!!"}, None),
        ("get", "/stations", {"cursor": "WzFd", "limit": "0"}, None),
        ("get", "/stations", {"q": "x" * 65}, None),
        ("get", "/stations/shuxiang/hours", {"at": "9999-12-31T23:59:59+08:00"}, None),
        ("get", "/stations/shuxiang/hours", {"at": "0001-01-01T00:00:00+00:00"}, None),
        ("get", "/figures", {"from": "0001-01-01", "to": "9999-12-31"}, None),
        ("get", "/sessions/99999999999999999999", None, None),
        ("get", "/stations/" + "x" * 65, None, None),
        (
            "post",
            "/stations/shuxiang/hours/rules",
            None,
            {"weekdays": [0], "opens": "08:00", "closes": "09:00", "effective_from": "0001-01-01"},
        ),
        (
            "post",
            "/stations/shuxiang/hours/exceptions",
            None,
            {"kind": "closed", "start_date": "9999-12-31", "end_date": "9999-12-31"},
        ),
        (
            "post",
            "/stations/shuxiang/hours/exceptions",
            None,
            {"kind": "closed", "start_date": "2026-01-01", "end_date": "2028-01-01"},
        ),
        (
            "post",
            "/stations/shuxiang/services/consult/sessions",
            None,
            {"starts_at": "0001-01-01T01:00:00Z", "ends_at": "0001-01-01T02:00:00Z", "capacity": 1},
        ),
        (
            "post",
            "/stations/shuxiang/services/tailoring/sessions",
            None,
            {"starts_at": "2030-01-01T01:00:00Z", "ends_at": "2030-01-01T02:00:00Z", "capacity": 1},
        ),
        (
            "post",
            "/stations",
            None,
            {"code": "ok", "name": "n", "community": "chaoyang", "compound": "ok", "latitude": "NaN", "longitude": 1},
        ),
        ("patch", "/stations/shuxiang", None, {"name": None}),
        ("patch", "/stations/shuxiang", None, {"role": "admin"}),
    ],
)
async def test_bad_input_is_rejected_with_a_4xx(
    stations: httpx.AsyncClient,
    stations_app: FastAPI,
    tokens: Tokens,
    method: str,
    path: str,
    params: dict | None,
    body: dict | None,
) -> None:
    await seed_demo(stations_app)
    kwargs: dict = {"headers": county(tokens), "params": params}
    if body is not None:
        kwargs["json"] = body
    r = await getattr(stations, method)(f"{API}{path}", **kwargs)
    assert 400 <= r.status_code < 500, (r.status_code, r.text)
    assert r.headers["content-type"].startswith("application/problem+json")


async def test_session_input_is_validated(stations: httpx.AsyncClient, tokens: Tokens) -> None:
    import datetime as dt

    from doorstep_shared.clock import utcnow

    await station_with_class(stations, tokens)
    now = utcnow()
    bad = [
        {"starts_at": now + dt.timedelta(days=1), "ends_at": now},
        {"min_participants": 20},
        {"min_participants": 2},
        {"max_seats_per_booking": 11},
        {"booking_opens_at": now + dt.timedelta(days=2), "booking_closes_at": now + dt.timedelta(days=1)},
    ]
    for overrides in bad:
        body = {
            "starts_at": (now + dt.timedelta(days=3)).isoformat(),
            "ends_at": (now + dt.timedelta(days=3, hours=1)).isoformat(),
            "capacity": 10,
        }
        body.update({k: v.isoformat() if isinstance(v, dt.datetime) else v for k, v in overrides.items()})
        r = await stations.post(
            f"{API}/stations/testclass/services/painting/sessions", headers=county(tokens), json=body
        )
        assert r.status_code == 422, (overrides, r.text)
        assert r.json()["errors"][0]["field"].startswith("body.")
    ok = await make_session(stations, tokens)
    assert ok["available"] == 10
