"""Tenancy matrix of the gateway: its routes with a path id, a chaoyang caller against zhenhuai.

The gateway holds no community records itself; its community-scoped routes are the Open311
reads of service requests, which ask the proxy with the caller's token (the proxy applies the
tenancy). Every gateway route with a path param is listed here with what a chaoyang caller gets;
an unlisted one fails, so new routes join the matrix.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from doorstep_gateway.main import create_app
from doorstep_shared.auth.security import iter_api_routes

from ..support import Tokens
from ..tenancy_support import HOME, OTHER, SECOND_COUNTY, county_caller
from .service_apps import Wired, service_apps_fixture, services_fixture  # noqa: F401 (fixtures)

ADMIN = {"community_admin": True}
CLIENT = {"client": True}
# path → (caller, expected status, why). ``{demand}`` is a demand of OTHER.
GATEWAY_ROUTES: dict[str, tuple[dict[str, bool], int, str]] = {
    "/open311/v2/requests/{service_request_id}.{fmt}": (
        ADMIN,
        404,
        "a service request (demand) of another community answers as if absent",
    ),
    "/open311/v2/services/{service_code}.{fmt}": (
        CLIENT,
        200,
        "the catalogue is the county's, the same for every community",
    ),
    "/open311/{rest:path}": (CLIENT, 404, "no such Open311 resource, whatever is asked"),
    "/api/v1/clients/{client_id}": (ADMIN, 403, "machine clients are the security officer's: clients:manage"),
    "/api/v1/clients/{client_id}/rotate-secret": (ADMIN, 403, "the security officer's only (clients:manage)"),
    "/api/v1/clients/{client_id}/revoke": (ADMIN, 403, "the security officer's only (clients:manage)"),
    "/api/v1/clients/{client_id}/api-key": (ADMIN, 403, "the security officer's only (clients:manage)"),
    # Staff accounts: another community's answers as if absent (tests/gateway/staff, on seeded accounts).
    "/api/v1/staff/{username}": (ADMIN, 404, "another community's staff account is not the caller's to see"),
    "/api/v1/staff/{username}/deactivate": (ADMIN, 404, "nor to deactivate"),
    "/api/v1/staff/{username}/reactivate": (ADMIN, 404, "nor to reactivate"),
    "/api/v1/staff/{username}/reset": (ADMIN, 404, "nor to reset"),
    "/api/v1/staff/{username}/sessions": (ADMIN, 404, "nor to list its sessions"),
    "/api/v1/staff/{username}/sessions/{session_id}": (ADMIN, 404, "nor to end one"),
    "/api/v1/audit/logins/{username}": (ADMIN, 403, "login histories are the auditor's (audit:read)"),
    # One's own sessions only: any other session id answers as if absent.
    "/api/v1/auth/sessions/{session_id}": (ADMIN, 404, "a session that is not the caller's is absent"),
    # GET: the directory is the county's published org structure, readable by all staff;
    # PATCH: county admins only (directory:manage). {code} is a record of OTHER (its county: hexian).
    **{
        f"/api/v1/directory/{kind}/{{code}}": (ADMIN, 200, "another community's directory record reads")
        for kind in ("counties", "communities", "grids", "compounds")
    },
    "/api/v1/directory/{kind}/{code}/history": (ADMIN, 200, "the directory's history is the county's, like the record"),
}
# A method whose answer differs from the path's: (method, path) → (status, why).
GATEWAY_METHODS: dict[tuple[str, str], tuple[int, str]] = {
    ("PATCH", f"/api/v1/directory/{kind}/{{code}}"): (403, "county admins only (directory:manage)")
    for kind in ("counties", "communities", "grids", "compounds")
}


# The same routes as the county admin of a second county (hanshan), where it differs from above:
# it holds clients:manage and directory:manage, so the refusal is another county's, not a permission's.
COUNTY_ROUTES: dict[str, tuple[int, str]] = {
    "/api/v1/clients/{client_id}": (404, "another county's machine client answers as if absent"),
    "/api/v1/clients/{client_id}/rotate-secret": (404, "as if absent"),
    "/api/v1/clients/{client_id}/revoke": (404, "as if absent"),
    "/api/v1/clients/{client_id}/api-key": (404, "as if absent"),
}
COUNTY_METHODS: dict[tuple[str, str], tuple[int, str]] = {
    ("PATCH", f"/api/v1/directory/{kind}/{{code}}"): (403, "another county's directory: outside_scope")
    for kind in ("counties", "communities", "grids", "compounds")
}


def _routes() -> list[tuple[str, str]]:
    """(method, path) of every route with a path param other than ``{fmt}`` (a format)."""
    app = create_app()
    return sorted(
        (method, route.path)
        for route in iter_api_routes(app)
        if re.sub(r"\{fmt\}", "", route.path).count("{")
        for method in route.methods or ()
        if not (route.path == "/open311/{rest:path}" and method != "GET")
    )


def _caller(tokens: Tokens, kind: dict[str, bool]) -> dict[str, str]:
    if kind is CLIENT:
        return tokens.headers(
            None,
            kind="client",
            subject=f"{HOME}-platform",
            scopes=("catalog:read", "demands:read"),
            communities=(HOME,),
        )
    return tokens.headers("community_admin", community=HOME, subject=f"{HOME}.admin")


async def _demand(services: Wired, tokens: Tokens, community: str) -> str:
    r = await services.proxy.post(
        "/api/v1/proxy/demands",
        json={"channel": "window", "text": "咨询高龄补贴怎么申请"},
        headers=tokens.headers("community_admin", community=community, subject=f"{community}.admin"),
    )
    assert r.status_code == 201, r.text
    demand_id: str = r.json()["id"]
    return demand_id


async def _client_of(services: Wired, tokens: Tokens, community: str) -> str:
    r = await services.gateway.post(
        "/api/v1/clients",
        json={"name": "tenancy probe", "scopes": ["demands:write"], "communities": [community]},
        headers=tokens.headers("security_officer", community=None, subject="county.security"),
    )
    assert r.status_code == 201, r.text
    client_id: str = r.json()["client_id"]
    return client_id


@pytest.mark.parametrize("county", [False, True], ids=["community", "county"])
@pytest.mark.parametrize(("method", "path"), _routes(), ids=lambda v: v)
async def test_gateway_route_with_a_path_param_keeps_to_tenancy(
    method: str, path: str, county: bool, services: Wired, tokens: Tokens
) -> None:
    assert path in GATEWAY_ROUTES, f"{method} {path} is not in the gateway's tenancy matrix"
    caller, expected, why = GATEWAY_ROUTES[path]
    expected, why = GATEWAY_METHODS.get((method, path), (expected, why))
    if county:
        expected, why = COUNTY_ROUTES.get(path, (expected, why))
        expected, why = COUNTY_METHODS.get((method, path), (expected, why))
    other_demand = await _demand(services, tokens, OTHER)
    url = (
        path.replace("{service_request_id}", other_demand)
        .replace("{fmt}", "json")
        .replace("{service_code}", "elderly-allowance")
        .replace("{rest:path}", f"v2/requests/{other_demand}/notes.json")
        .replace("{client_id}", f"{OTHER}-platform")
        .replace("{username}", "worker.elsewhere")  # the instance echoes the path
        .replace("{session_id}", "f" * 32)
        .replace("{kind}", "communities")
        .replace("/counties/{code}", "/counties/hexian")
        .replace("/grids/{code}", f"/grids/{OTHER}-g1")
        .replace("/compounds/{code}", f"/compounds/{OTHER}yuan")
        .replace("{code}", OTHER)
    )
    kwargs: dict[str, Any] = {"json": {}} if method in ("POST", "PATCH") else {}
    if county and caller is CLIENT:
        pytest.skip("a machine client's route: a client has no county")
    if county and "{client_id}" in path:  # a real client of OTHER, so that 404 is tenancy, not absence
        url = url.replace(f"{OTHER}-platform", await _client_of(services, tokens, OTHER))
    # The client registry is the security officer's (separation of duties), the rest the admin's.
    county_role = "security_officer" if path.startswith("/api/v1/clients") else "county_admin"
    headers = county_caller(tokens, SECOND_COUNTY, county_role) if county else _caller(tokens, caller)
    if county and method == "PATCH":
        headers |= {"If-Match": "*"}
    r = await services.gateway.request(method, url, headers=headers, **kwargs)
    assert r.status_code == expected, f"{method} {url} ({why}): {r.status_code} {r.text[:300]}"
    if expected == 404:  # as if absent: nothing of the record in the answer
        assert OTHER not in r.text and "咨询" not in r.text, r.text[:300]


async def test_an_open311_request_of_ones_own_community_does_read(services: Wired, tokens: Tokens) -> None:
    """The 404 above is tenancy, not a broken route: HOME's own demand reads."""
    mine = await _demand(services, tokens, HOME)
    r = await services.gateway.get(f"/open311/v2/requests/{mine}.json", headers=_caller(tokens, ADMIN))
    assert r.status_code == 200, r.text
    assert r.json()[0]["service_request_id"] == mine
