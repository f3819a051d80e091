"""Tenancy matrix of the stations service: a chaoyang admin, and the county admin of a second
county (hanshan), against zhenhuai's records (zhenhuai lies in hexian).

Generated from the app's routes: every route with a path id answers 404 for a record of
another community (not 403, not 200) unless listed in NOT_404 with the reason; lists and
figures carry no trace of another community. An unmapped path param fails (see
tests/tenancy_support.py).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text

from doorstep_stations.demo.service import seed
from doorstep_stations.main import create_app
from doorstep_stations.models import metadata

from ..support import Tokens, client_for
from ..tenancy_support import (
    BODIES,
    COUNTY,
    HOME,
    OTHER,
    SECOND_COMMUNITY,
    SECOND_COMPOUND,
    SECOND_COUNTY,
    WRITE_HEADERS,
    FilterCase,
    RouteCase,
    Traces,
    add_webhook_rows,
    caller_headers,
    county_caller,
    filter_cases,
    filter_value,
    find_route,
    is_webhook_route,
    nonzero_numbers,
    problem_mentions_other,
    reset_tables,
    resolve_path,
    route_cases,
    second_county,
    subscribe_to_other,
)

_APP = create_app()
ID_ROUTES = route_cases(_APP, with_params=True)
LIST_ROUTES = [c for c in route_cases(_APP, with_params=False) if c.method == "GET"]
FILTERS = filter_cases(_APP, "stations")
WRITES_WITHOUT_ID = [c for c in route_cases(_APP, with_params=False) if c.method != "GET"]
WEBHOOK_SCOPE = "stations:read"  # a read scope of the stations' events

# Routes where the design answers something other than 404, each with the reason
# (services/stations/README.md, "Access"): stations, their services, hours and sessions are a
# county-wide directory without personal data ("residents of any compound are welcome"), so
# they read 200 across communities; managing another community's station is then refused
# with 403 not_station_manager (the station is visibly there, so 404 would be a lie).
_DIRECTORY = "station directory: no personal data, readable across communities by design"
_MANAGE = "managing another community's station: 403 not_station_manager by design"
NOT_404: dict[str, tuple[int, str]] = {
    "GET /api/v1/stations/stations/{code}": (200, _DIRECTORY),
    "GET /api/v1/stations/stations/{code}/hours": (200, _DIRECTORY),
    "GET /api/v1/stations/stations/{code}/services/{service_code}/sessions": (200, _DIRECTORY),
    "GET /api/v1/stations/sessions/{session_id}": (200, _DIRECTORY),
    "PATCH /api/v1/stations/stations/{code}": (403, _MANAGE),
    "POST /api/v1/stations/stations/{code}/services": (403, _MANAGE),
    "PATCH /api/v1/stations/stations/{code}/services/{service_code}": (403, _MANAGE),
    "POST /api/v1/stations/stations/{code}/hours/rules": (403, _MANAGE),
    "DELETE /api/v1/stations/stations/{code}/hours/rules/{rule_id}": (403, _MANAGE),
    "POST /api/v1/stations/stations/{code}/hours/exceptions": (403, _MANAGE),
    "DELETE /api/v1/stations/stations/{code}/hours/exceptions/{exception_id}": (403, _MANAGE),
    "POST /api/v1/stations/stations/{code}/services/{service_code}/sessions": (403, _MANAGE),
    "POST /api/v1/stations/sessions/{session_id}/cancel": (403, _MANAGE),
    "POST /api/v1/stations/stations/{code}/tickets": (403, _MANAGE),
}

# List routes that show other communities' records by design, with the reason.
LIST_DIRECTORY: dict[str, str] = {
    "GET /api/v1/stations/stations": _DIRECTORY,
}

# Who calls: HOME's community admin (a community of the same county as OTHER), or the county
# admin of the second county: OTHER's records are to it exactly what they are to HOME's admin
# (the station directory reads, managing it is refused, everything personal is absent).
CALLERS = ["community", "county"]


def _headers(caller: str, tokens: Tokens, path: str, webhook_scope: str) -> dict[str, str]:
    if caller == "county":
        if is_webhook_route(path):
            pytest.skip("webhook routes are a machine client's (HOME's client holds them); a client has no county")
        return county_caller(tokens, SECOND_COUNTY)
    return caller_headers(tokens, path, webhook_scope)


# The person who booked and left a ticket at OTHER's station (see _as_other_admin): their
# name and masked phone must never reach HOME.
_TRACE_QUERIES = [
    "SELECT name FROM booking WHERE community = 'zhenhuai'",
    "SELECT phone_masked FROM booking WHERE community = 'zhenhuai'",
    "SELECT name FROM dropoff_ticket WHERE community = 'zhenhuai'",
    "SELECT number FROM dropoff_ticket WHERE community = 'zhenhuai'",
]


async def _as_other_admin(client: httpx.AsyncClient, tokens: Tokens) -> None:
    """Give OTHER's station a drop-off service, a session, a booking, a ticket and an hours
    exception through the API (the demo seed gives zhenhuai none of these)."""
    headers = tokens.headers("community_admin", community=OTHER, subject=f"{OTHER}.admin")
    base = "/api/v1/stations/stations/zhenhuaiyuan"
    station = await client.get(base, headers=headers)
    assert station.status_code == 200, station.text
    services = station.json()["services"]
    appointment = next(s["code"] for s in services if s["kind"] != "drop_off")
    created: list[httpx.Response] = [
        await client.post(
            f"{base}/services",
            json={"code": "mending", "name": "缝补", "kind": "drop_off"},
            headers=headers,
        ),
        await client.post(
            f"{base}/services/{appointment}/sessions",
            json=BODIES[("POST", "/api/v1/stations/stations/{code}/services/{service_code}/sessions")],
            headers=headers,
        ),
        await client.post(
            f"{base}/hours/exceptions",
            json=BODIES[("POST", "/api/v1/stations/stations/{code}/hours/exceptions")],
            headers=headers,
        ),
    ]
    session_id = created[1].json()["id"]
    created += [
        await client.post(
            f"{base}/tickets",
            json={
                "service_code": "mending",
                "name": "樊一鸣",
                "phone": "13912345678",
                "item": "a coat",
                "request": "mend the sleeve",
            },
            headers=headers,
        ),
        await client.post(
            f"/api/v1/stations/sessions/{session_id}/bookings",
            json={"name": "樊一鸣", "phone": "13912345678"},
            headers=headers,
        ),
    ]
    for r in created:
        assert r.status_code == 201, r.text
    await _ready(client, created[3].json()["id"], headers)


async def _as_home_admin(app: FastAPI, client: httpx.AsyncClient, tokens: Tokens) -> None:
    """A booking and a ticket at a HOME station too, so HOME's lists have something in them."""
    headers = tokens.headers("community_admin", community=HOME, subject=f"{HOME}.admin")
    async with app.state.engine.connect() as conn:
        session_id = (
            await conn.execute(
                text("SELECT id FROM service_session WHERE community = 'chaoyang' ORDER BY starts_at, id LIMIT 1")
            )
        ).scalar_one()
    created = [
        await client.post(
            f"/api/v1/stations/sessions/{session_id}/bookings",
            json={"name": "邵予安", "phone": "13800001111"},
            headers=headers,
        ),
        await client.post(
            "/api/v1/stations/stations/shuxiang/tickets",
            json={"name": "邵予安", "phone": "13800001111", "item": "trousers", "request": "hem"},
            headers=headers,
        ),
    ]
    for r in created:
        assert r.status_code == 201, r.text
    await _ready(client, created[1].json()["id"], headers)


async def _ready(client: httpx.AsyncClient, ticket_id: int, headers: dict[str, str]) -> None:
    """Mark a ticket ready: the owner gets a notification (on the next worker pass)."""
    for status in ("in_progress", "ready"):
        r = await client.post(f"/api/v1/stations/tickets/{ticket_id}/status", json={"status": status}, headers=headers)
        assert r.status_code == 200, r.text


@pytest.fixture(scope="module")
async def seeded_stations(stations_app: FastAPI, tokens: Tokens) -> AsyncIterator[FastAPI]:
    """Demo data once per backend (other modules' clients empty the tables before each test)."""
    await reset_tables(stations_app, metadata)
    stations_app.dependency_overrides.clear()
    async with stations_app.state.sessionmaker() as session:
        await seed(session)
        await session.commit()
    async with client_for(stations_app) as c:
        await _as_other_admin(c, tokens)
        await _as_home_admin(stations_app, c, tokens)
    await stations_app.state.worker.tick()  # the notifications of both communities
    assert await add_webhook_rows(stations_app, metadata)
    with second_county(stations_app.state.directory):
        yield stations_app


@pytest.fixture(scope="module")
async def client(seeded_stations: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(seeded_stations) as c:
        yield c


@pytest.fixture(scope="module")
async def traces(seeded_stations: FastAPI) -> Traces:
    found = Traces()
    await found.load(seeded_stations, _TRACE_QUERIES)
    return found


def _send(case: RouteCase, route: Any) -> dict[str, Any]:
    if route.body_field is None:
        return {}
    assert (case.method, case.path) in BODIES, f"no body for {case.id} in BODIES"
    return {"json": BODIES[(case.method, case.path)]}


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("case", ID_ROUTES, ids=lambda c: c.id)
async def test_record_of_another_community_answers_404(
    case: RouteCase, caller: str, seeded_stations: FastAPI, client: httpx.AsyncClient, tokens: Tokens
) -> None:
    route = find_route(seeded_stations, case)
    url = await resolve_path(seeded_stations, "stations", case.path)
    expected, _reason = NOT_404.get(case.id, (404, ""))
    headers = _headers(caller, tokens, case.path, WEBHOOK_SCOPE)
    if case.method != "GET":
        # A 403 case must get past the If-Match check (some routes check it first) to show
        # that the ownership check, not a stale ETag, stops the write.
        headers |= {"If-Match": "*"} if expected == 403 else WRITE_HEADERS
    r = await client.request(case.method, url, headers=headers, **_send(case, route))
    assert r.status_code == expected, f"{case.id} → {url}: {r.status_code} {r.text[:300]}"
    if expected == 404:
        assert r.headers["content-type"].startswith("application/problem+json")
        assert not problem_mentions_other(r.json()), r.text
    elif expected == 403:
        assert r.json()["code"] == "not_station_manager", r.text
    else:  # the directory: no personal data of the station's visitors
        assert "phone" not in r.text and "樊一鸣" not in r.text, r.text[:300]


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("case", LIST_ROUTES, ids=lambda c: c.id)
async def test_lists_carry_no_trace_of_another_community(
    case: RouteCase, caller: str, client: httpx.AsyncClient, tokens: Tokens, traces: Traces
) -> None:
    headers = _headers(caller, tokens, case.path, WEBHOOK_SCOPE)
    r = await client.get(case.path, params={"limit": "200"}, headers=headers)
    if r.status_code == 422 and "limit" in r.text:
        r = await client.get(case.path, headers=headers)
    assert r.status_code == 200, f"{case.id}: {r.status_code} {r.text[:300]}"
    body = r.json()
    if caller == "community":  # the second county has no records here: its lists may be empty
        assert body, f"{case.id} answered nothing: the check would prove nothing"
        if isinstance(body, dict) and "items" in body:
            assert body["items"], f"{case.id} lists nothing of {HOME}: the check would prove nothing"
    if "figures" in case.path and caller == "county":
        assert not nonzero_numbers(body), f"{case.id} counts another county: {body}"
    if case.id in LIST_DIRECTORY:
        assert "phone" not in r.text, r.text[:300]
        return
    leaks = traces.find(body)
    assert not leaks, f"{case.id} shows {OTHER}: {leaks[:5]}"


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("case", FILTERS, ids=lambda c: c.id)
async def test_filters_naming_another_community_find_nothing(
    case: FilterCase,
    caller: str,
    seeded_stations: FastAPI,
    client: httpx.AsyncClient,
    tokens: Tokens,
    traces: Traces,
) -> None:
    value = await filter_value(seeded_stations, "stations", case.param)
    r = await client.get(
        case.path,
        params={case.param: value},
        headers=_headers(caller, tokens, case.path, WEBHOOK_SCOPE),
    )
    assert r.status_code in (200, 403, 404), f"{case.id}{value}: {r.status_code} {r.text[:300]}"
    if r.status_code == 200:
        body = r.json()
        if f"GET {case.path}" in LIST_DIRECTORY:
            return
        leaks = traces.find(body, echo=(case.param, value))
        assert not leaks, f"{case.id}{value} shows {OTHER}: {leaks[:5]}"
        if "figures" in case.path:
            assert not nonzero_numbers(body), f"{case.id}{value} counts {OTHER}: {body}"


async def test_the_matrix_has_records_of_both_communities(seeded_stations: FastAPI) -> None:
    async with seeded_stations.state.engine.connect() as conn:
        for table in ("station", "service_session", "booking", "dropoff_ticket", "notification"):
            rows = dict((await conn.execute(text(f"SELECT community, COUNT(*) FROM {table} GROUP BY community"))).all())
            assert rows.get(HOME) and rows.get(OTHER), (table, rows)


# Writes without a path id that name OTHER: (body, expected status, problem code, why).
WRITES: dict[str, tuple[dict[str, object], int, str, str]] = {
    "POST /api/v1/stations/stations": (
        {
            "code": "tenancy-probe",
            "name": "探针驿站",
            "community": OTHER,
            "compound": "zhenhuaiyuan",
            "latitude": 31.7,
            "longitude": 118.4,
        },
        403,
        "not_station_manager",
        "only county admins and the community's own admins create its stations",
    ),
}
WRITES_ELSEWHERE: dict[str, str] = {
    "POST /api/v1/stations/webhooks/subscriptions": (
        "a machine client's own subscription: see test_a_client_cannot_subscribe_to_..."
    ),
}


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("case", WRITES_WITHOUT_ID, ids=lambda c: c.id)
async def test_writes_for_another_community_are_refused(
    case: RouteCase, caller: str, client: httpx.AsyncClient, tokens: Tokens
) -> None:
    if case.id in WRITES_ELSEWHERE:
        pytest.skip(WRITES_ELSEWHERE[case.id])
    assert case.id in WRITES, f"{case.id} is not in the tenancy matrix: add a body or a reason"
    body, status, code, why = WRITES[case.id]
    r = await client.request(case.method, case.path, json=body, headers=_headers(caller, tokens, case.path, ""))
    assert (r.status_code, r.json().get("code")) == (status, code), f"{why}: {r.text[:300]}"


async def test_a_client_cannot_subscribe_to_another_communitys_events(
    client: httpx.AsyncClient, tokens: Tokens
) -> None:
    r = await subscribe_to_other(client, tokens, "/api/v1/stations", WEBHOOK_SCOPE)
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["field"] == "body.communities"


async def test_a_county_admin_manages_the_stations_of_its_own_county_only(
    seeded_stations: FastAPI, client: httpx.AsyncClient, tokens: Tokens
) -> None:
    """The second county's admin opens a station in its own county (a compound only the
    directory copy knows); hexian's county admin may not manage it and reads none of its
    tickets, while still managing hexian's stations."""
    theirs = county_caller(tokens, SECOND_COUNTY)
    r = await client.post(
        "/api/v1/stations/stations",
        json={
            "code": SECOND_COMPOUND,
            "name": "环峰苑驿站",
            "community": SECOND_COMMUNITY,
            "compound": SECOND_COMPOUND,
            "latitude": 31.7,
            "longitude": 118.1,
        },
        headers=theirs,
    )
    assert r.status_code == 201, r.text
    base = f"/api/v1/stations/stations/{SECOND_COMPOUND}"
    r = await client.post(
        f"{base}/services", json={"code": "mending", "name": "缝补", "kind": "drop_off"}, headers=theirs
    )
    assert r.status_code == 201, r.text
    r = await client.post(
        f"{base}/tickets",
        json={"service_code": "mending", "name": "卢思远", "phone": "13955556666", "item": "a coat", "request": "mend"},
        headers=theirs,
    )
    assert r.status_code == 201, r.text
    ticket = r.json()["id"]

    ours = county_caller(tokens, COUNTY)
    r = await client.patch(base, json={"contact": "0555-0000000"}, headers=ours | {"If-Match": "*"})
    assert (r.status_code, r.json()["code"]) == (403, "not_station_manager"), r.text
    r = await client.get(f"/api/v1/stations/tickets/{ticket}", headers=ours)
    assert r.status_code == 404, r.text
    r = await client.get("/api/v1/stations/stations/zhenhuaiyuan", headers=ours)
    version = r.headers["etag"]
    r = await client.patch(
        "/api/v1/stations/stations/zhenhuaiyuan", json={"contact": "0555-1111111"}, headers=ours | {"If-Match": version}
    )
    assert r.status_code == 200, r.text
