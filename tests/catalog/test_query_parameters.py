"""Catalog: a query parameter no route reads is a 422 naming it; the declared ones work."""

from __future__ import annotations

import httpx

ITEMS = "/api/v1/catalog/items"


async def test_an_unknown_query_parameter_is_named_in_a_422(seeded: httpx.AsyncClient, worker: dict[str, str]) -> None:
    assert (await seeded.get(ITEMS, headers=worker, params={"limit": 5})).status_code == 200
    resp = await seeded.get(ITEMS, headers=worker, params={"limit": 5, "colour": "red"})
    assert resp.status_code == 422
    assert [e["field"] for e in resp.json()["errors"]] == ["query.colour"]
