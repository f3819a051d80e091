"""Machine clients belong to a county: a county's security officer (the client registry is theirs,
separation of duties) registers clients for its own county's communities only and sees, rotates
and revokes none of another county's (404, as if absent)."""

from __future__ import annotations

import httpx

from ...support import Tokens
from ...tenancy_support import COUNTY, HOME, SECOND_COMMUNITY, SECOND_COUNTY, county_caller


async def _second_county(gateway: httpx.AsyncClient, tokens: Tokens) -> None:
    """Created through the directory API, after the callers' tokens could have been issued."""
    manager = tokens.headers("county_admin", community=None, subject="county.admin")
    for path, body in (
        ("counties", {"code": SECOND_COUNTY, "name": "含山县"}),
        ("communities", {"code": SECOND_COMMUNITY, "name": "环峰镇", "county": SECOND_COUNTY}),
    ):
        r = await gateway.post(f"/api/v1/directory/{path}", json=body, headers=manager)
        assert r.status_code == 201, r.text


async def test_a_county_security_officer_manages_the_clients_of_its_own_county_only(
    gateway: httpx.AsyncClient, tokens: Tokens
) -> None:
    ours, theirs = (
        county_caller(tokens, COUNTY, "security_officer"),
        county_caller(tokens, SECOND_COUNTY, "security_officer"),
    )
    await _second_county(gateway, tokens)
    body = {"name": "含山县平台", "scopes": ["demands:write"], "communities": [SECOND_COMMUNITY]}
    r = await gateway.post("/api/v1/clients", json=body, headers=theirs)
    assert r.status_code == 201, r.text  # a community created a moment ago, no new token needed
    their_client = r.json()["client_id"]
    r = await gateway.post("/api/v1/clients", json={**body, "communities": [HOME]}, headers=theirs)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.communities", r.text
    r = await gateway.post("/api/v1/clients", json={**body, "communities": []}, headers=theirs)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.communities", r.text
    r = await gateway.post("/api/v1/clients", json={**body, "communities": [HOME]}, headers=ours)
    assert r.status_code == 201, r.text
    our_client = r.json()["client_id"]

    for caller, own, other in ((ours, our_client, their_client), (theirs, their_client, our_client)):
        listed = [c["client_id"] for c in (await gateway.get("/api/v1/clients", headers=caller)).json()]
        assert own in listed and other not in listed
        assert (await gateway.get(f"/api/v1/clients/{own}", headers=caller)).status_code == 200
        for method, path in (
            ("GET", ""),
            ("POST", "/rotate-secret"),
            ("POST", "/api-key"),
            ("POST", "/revoke"),
        ):
            kwargs = {"json": {"grace_seconds": 0}} if path == "/rotate-secret" else {}
            r = await gateway.request(method, f"/api/v1/clients/{other}{path}", headers=caller, **kwargs)
            assert r.status_code == 404, f"{method} {path}: {r.text}"

    # A deployment-wide county admin (no county in the token) manages both.
    everyone = [
        c["client_id"]
        for c in (
            await gateway.get("/api/v1/clients", headers=tokens.headers("security_officer", community=None))
        ).json()
    ]
    assert {our_client, their_client} <= set(everyone)
