"""Machine clients read only what is theirs (issue 17, part 4).

Generated from the apps' routes: every GET route a machine client's scopes reach is either
checked here — called as a platform with every scope a client can hold, it shows no case,
visit, demand or resident that did not come from the platform's own demand, and another case
of the same community answers 404 — or is named below as carrying no resident's data. A new
route a client can reach fails until it is one or the other. A county admin's explicit grant
(``cases:read:all``) widens the view to the platform's communities, never beyond.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import text, update
from sqlmodel import col

from doorstep_proxy.cases.models import ProxyCase
from doorstep_proxy.main import create_app
from doorstep_proxy.models import metadata
from doorstep_proxy.seed import seed
from doorstep_shared.auth.permissions import CLIENT_SCOPES, Permission
from doorstep_shared.auth.security import declared_permissions, iter_api_routes

from ..support import Tokens, client_for
from ..tenancy_support import reset_tables
from ..test_route_permissions import build
from .files.uploads import seed_case_file, seed_visit_file

PLATFORM = "demo.platform"
HOME, OTHER = "chaoyang", "zhenhuai"
ONLY_OWN = tuple(sorted(CLIENT_SCOPES - {Permission.CASES_READ_ALL}))
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def client_reachable_gets(app: FastAPI) -> list[str]:
    """``GET path`` of every route whose permissions a machine client can hold."""
    out = []
    for route in iter_api_routes(app):
        needed = declared_permissions(route) - {"authenticated", "public"}
        if "GET" in route.methods and needed and needed <= set(CLIENT_SCOPES):
            out.append(f"GET {route.path}")
    return sorted(out)


PROXY_ROUTES = [r for r in client_reachable_gets(create_app()) if r.startswith("GET /api/v1/proxy/")]

# Client-reachable routes of the other apps, and why they carry no resident's data.
NOT_RESIDENT_DATA: dict[str, str] = {
    "GET /api/v1/directory/communities": "the county's communities and grids",
    # The org directory: codes, names, addresses and coordinates of places, and who changed them
    # (staff usernames in the history); no resident appears in it.
    **{
        f"GET /api/v1/directory/{path}": "the org directory (places, not people)"
        for path in (
            "communities/{code}",
            "compounds",
            "compounds/{code}",
            "counties",
            "counties/{code}",
            "grids",
            "grids/{code}",
            "tree",
            "{kind}/{code}/history",
        )
    },
    "GET /api/v1/reports/summary": "county figures: counts, no records",
    "GET /open311/discovery.{fmt}": "the Open311 endpoint description",
    "GET /open311/v2/services.{fmt}": "the catalogue as Open311 services",
    "GET /open311/v2/services/{service_code}.{fmt}": "one catalogue item as an Open311 service",
    "GET /open311/{rest:path}": "Open311's 404 for unknown paths",
    "GET /open311/v2/requests.{fmt}": "the proxy's demands, read with the client's own token (checked here)",
    "GET /open311/v2/requests/{service_request_id}.{fmt}": "one proxy demand, with the client's own token",
}
NOT_RESIDENT_PREFIXES = {
    "GET /api/v1/catalog/": "the handbook: items, versions, tips, briefings (no resident)",
    "GET /api/v1/stations/": "stations, hours, sessions and station figures (bookings need scopes no client holds)",
}


@dataclass
class Own:
    demand: str
    case: str
    visit: str
    resident: str
    forbidden: set[str]  # every other case, visit, demand and resident id in the database
    neighbour_case: str  # a case of the platform's own community that is not its own
    neighbour_visit: str
    neighbour_demand: str
    file: str  # a photo on the platform's case
    neighbour_file: str  # a photo on the neighbour case
    visit_file: str  # a photo on the platform's visit
    neighbour_visit_file: str


def platform(tokens: Tokens, *scopes: str) -> dict[str, str]:
    return tokens.headers(None, kind="client", subject=PLATFORM, scopes=scopes, communities=(HOME,))


async def _ids(conn: Any, sql: str, **params: Any) -> set[str]:
    return {str(uuid.UUID(str(v))) for v in (await conn.execute(text(sql), params)).scalars().all()}


@pytest.fixture(scope="module")
async def own(proxy_app: FastAPI, tokens: Tokens) -> Own:
    await reset_tables(proxy_app, metadata)
    async with proxy_app.state.sessionmaker() as session:
        await seed(session, proxy_app.state.pii)
        await session.commit()
    async with client_for(proxy_app) as client:
        resp = await client.post(
            "/api/v1/proxy/demands",
            json={"community": HOME, "channel": "platform", "text": "居民来电咨询高龄津贴", "external_ref": "T-1"},
            headers=platform(tokens, *ONLY_OWN),
        )
        assert resp.status_code == 201, resp.text
    demand = resp.json()["id"]
    async with proxy_app.state.engine.begin() as conn:
        # A case of a visit that covers several cases: the platform's case is one of them.
        case, visit, resident = (
            await conn.execute(
                text(
                    "SELECT c.id, vc.visit_id, c.resident_id FROM proxy_visit_case vc "
                    "JOIN proxy_case c ON c.id = vc.case_id WHERE c.community = :home "
                    "ORDER BY (SELECT COUNT(*) FROM proxy_visit_case o WHERE o.visit_id = vc.visit_id) DESC, c.id "
                    "LIMIT 1"
                ),
                {"home": HOME},
            )
        ).one()
        await conn.execute(
            update(ProxyCase).where(col(ProxyCase.id) == uuid.UUID(str(case))).values(demand_id=uuid.UUID(demand))
        )
        case, visit, resident = (str(uuid.UUID(str(v))) for v in (case, visit, resident))
        mine = {demand, case, visit, resident}
        forbidden = set()
        for table in ("proxy_case", "proxy_visit", "demand", "resident"):
            forbidden |= await _ids(conn, f"SELECT id FROM {table}")
        neighbours = {}
        for table in ("proxy_case", "proxy_visit", "demand"):
            neighbours[table] = sorted(
                await _ids(conn, f"SELECT id FROM {table} WHERE community = :home", home=HOME) - mine
            )[0]
    return Own(
        file=await seed_case_file(proxy_app, case),
        neighbour_file=await seed_case_file(proxy_app, neighbours["proxy_case"]),
        visit_file=await seed_visit_file(proxy_app, visit),
        neighbour_visit_file=await seed_visit_file(proxy_app, neighbours["proxy_visit"]),
        demand=demand,
        case=case,
        visit=visit,
        resident=resident,
        forbidden=forbidden - mine,
        neighbour_case=neighbours["proxy_case"],
        neighbour_visit=neighbours["proxy_visit"],
        neighbour_demand=neighbours["demand"],
    )


def _url(route: str, ids: dict[str, str]) -> str:
    path = route.removeprefix("GET ")
    for name in re.findall(r"{(\w+)}", path):
        assert name in ids, f"{route}: no record for path parameter {name!r}: map it in this matrix"
        path = path.replace(f"{{{name}}}", ids[name])
    return path


@pytest.mark.parametrize("route", PROXY_ROUTES)
async def test_a_platform_sees_nothing_that_did_not_come_from_its_own_requests(
    route: str, own: Own, proxy_app: FastAPI, tokens: Tokens
) -> None:
    on_visit = route.startswith("GET /api/v1/proxy/visits/")  # a visit's file, not a material's
    ids = {
        "case_id": own.case,
        "visit_id": own.visit,
        "demand_id": own.demand,
        "position": "1",
        "file_id": own.visit_file if on_visit else own.file,
    }
    async with client_for(proxy_app) as client:
        resp = await client.get(_url(route, ids), headers=platform(tokens, *ONLY_OWN))
        assert resp.status_code == 200, f"{route}: {resp.status_code} {resp.text[:300]}"
        seen = set(UUID.findall(resp.text))
        assert not seen & own.forbidden, (
            f"{route} shows records not from the platform: {sorted(seen & own.forbidden)[:5]}"
        )
        if route in ("GET /api/v1/proxy/cases", "GET /api/v1/proxy/demands"):
            assert [item["id"] for item in resp.json()["items"]] == [own.case if "cases" in route else own.demand]
        if "{" in route:  # the same route for a record of its community that is not its own
            others = {
                "case_id": own.neighbour_case,
                "visit_id": own.neighbour_visit,
                "demand_id": own.neighbour_demand,
                "position": "1",
                "file_id": own.neighbour_visit_file if on_visit else own.neighbour_file,
            }
            neighbour = await client.get(_url(route, others), headers=platform(tokens, *ONLY_OWN))
            assert neighbour.status_code == 404, f"{route}: {neighbour.status_code} {neighbour.text[:300]}"


async def test_a_county_admins_grant_widens_the_view_to_the_platforms_communities_only(
    own: Own, proxy_app: FastAPI, tokens: Tokens
) -> None:
    headers = platform(tokens, *CLIENT_SCOPES)
    async with client_for(proxy_app) as client:
        cases = (await client.get("/api/v1/proxy/cases", params={"limit": 200}, headers=headers)).json()["items"]
        assert own.neighbour_case in {c["id"] for c in cases}
        assert {c["community"] for c in cases} == {HOME}
        resp = await client.get(f"/api/v1/proxy/cases/{own.neighbour_case}", headers=headers)
        assert resp.status_code == 200


@pytest.mark.parametrize("app", ["gateway", "catalog", "proxy", "stations"])
def test_every_route_a_client_reaches_is_in_this_matrix_or_carries_no_resident_data(app: str, tmp_path: Path) -> None:
    for route in client_reachable_gets(build(app, tmp_path)):
        if route in PROXY_ROUTES or route in NOT_RESIDENT_DATA:
            continue
        assert any(route.startswith(p) for p in NOT_RESIDENT_PREFIXES), (
            f"{route} is reachable by a machine client: check it in this matrix or say why it holds no resident data"
        )
