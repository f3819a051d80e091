"""Every stations route declares a permission and the OpenAPI document is complete."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from doorstep_shared.auth.security import declared_permissions, iter_api_routes


async def test_every_route_declares_a_permission_and_has_a_summary(stations_app: FastAPI) -> None:
    for route in iter_api_routes(stations_app):
        assert declared_permissions(route), route.path
        assert route.summary, route.path


async def test_openapi_lists_the_stations_routes_with_problem_responses(
    stations: httpx.AsyncClient,
) -> None:
    r = await stations.get("/openapi.json")
    assert r.status_code == 200
    doc = r.json()
    paths = doc["paths"]
    assert "/api/v1/stations/sessions/{session_id}/bookings" in paths
    book = paths["/api/v1/stations/sessions/{session_id}/bookings"]["post"]
    assert {"201", "409", "422"} <= set(book["responses"])
    ids = [op["operationId"] for p in paths.values() for op in p.values()]
    assert len(ids) == len(set(ids))
