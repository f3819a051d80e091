"""Gateway: its own routes answer 422 to a query parameter they do not read; Open311 keeps
its format and accepts the spec's ``api_key``."""

from __future__ import annotations

import httpx

from ..support import Tokens

COMMUNITIES = "/api/v1/directory/communities"


async def test_an_unknown_query_parameter_is_named_in_a_422(gateway: httpx.AsyncClient, tokens: Tokens) -> None:
    assert (await gateway.get(COMMUNITIES, headers=tokens.headers())).status_code == 200
    resp = await gateway.get(COMMUNITIES, headers=tokens.headers(), params={"county": "hexian"})
    assert resp.status_code == 422
    assert [e["field"] for e in resp.json()["errors"]] == ["query.county"]


async def test_open311_answers_an_unknown_parameter_in_its_own_format(
    gateway: httpx.AsyncClient, tokens: Tokens
) -> None:
    ok = await gateway.get("/open311/discovery.json", headers=tokens.headers(), params={"api_key": "k"})
    assert ok.status_code == 200
    bad = await gateway.get("/open311/discovery.json", headers=tokens.headers(), params={"colour": "red"})
    assert bad.status_code == 400
    assert "colour" in bad.text
