"""Proxy: ``/leads?resident_id=…`` is a 422 naming the parameter, not the whole list."""

from __future__ import annotations

import httpx

from ..support import Tokens
from .helpers import worker

LEADS = "/api/v1/proxy/leads"
CASES = "/api/v1/proxy/cases"


async def test_an_unknown_query_parameter_is_named_in_a_422(proxy: httpx.AsyncClient, tokens: Tokens) -> None:
    assert (await proxy.get(CASES, headers=worker(tokens), params={"limit": 5})).status_code == 200
    # The check comes before the route's work: no catalogue is needed to refuse the parameter.
    resp = await proxy.get(LEADS, headers=worker(tokens), params={"resident_id": "r1"})
    assert resp.status_code == 422
    assert resp.json()["code"] == "validation_failed"
    assert [e["field"] for e in resp.json()["errors"]] == ["query.resident_id"]
