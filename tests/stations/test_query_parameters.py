"""Stations: a query parameter no route reads is a 422 naming it; the declared ones work."""

from __future__ import annotations

import httpx

from ..support import Tokens

STATIONS = "/api/v1/stations/stations"


async def test_an_unknown_query_parameter_is_named_in_a_422(stations: httpx.AsyncClient, tokens: Tokens) -> None:
    h = tokens.headers("social_worker")
    assert (await stations.get(STATIONS, headers=h, params={"community": "chaoyang", "limit": 5})).status_code == 200
    resp = await stations.get(STATIONS, headers=h, params={"communty": "chaoyang"})
    assert resp.status_code == 422
    assert [e["field"] for e in resp.json()["errors"]] == ["query.communty"]
