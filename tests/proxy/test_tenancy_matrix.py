"""Tenancy matrix of the proxy service: a chaoyang admin, and the county admin of a second
county (hanshan), against zhenhuai's records (zhenhuai lies in hexian).

Generated from the app's routes: every route with a path id answers 404 for a record of
another community or county (not 403, not 200); every list, search, figure and the sync feed
carries no trace of it. An unmapped path param fails (see tests/tenancy_support.py). The other
way round (hexian's county roles against hanshan's records) is at the end.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlmodel import select

from doorstep_proxy.discovery.models import DiscoveryLead, DiscoveryRun
from doorstep_proxy.ledger.models import Resident
from doorstep_proxy.ledger.personal_data import ID_CTX
from doorstep_proxy.main import create_app
from doorstep_proxy.models import metadata
from doorstep_proxy.seed import seed
from doorstep_shared.clock import local_today, utcnow

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
    uuid_text,
    valid_id_number,
)
from .discovery.catalog import seed_snapshot
from .files.uploads import seed_case_file, seed_visit_file

_APP = create_app()
ID_ROUTES = route_cases(_APP, with_params=True)
LIST_ROUTES = [c for c in route_cases(_APP, with_params=False) if c.method == "GET"]
FILTERS = filter_cases(_APP, "proxy")
WRITES_WITHOUT_ID = [c for c in route_cases(_APP, with_params=False) if c.method != "GET"]

# Routes where the design answers something other than 404, each with the reason.
# (Empty: PUT /workers/{username} no longer creates profiles, so another community's worker is
# a plain 404 like any record; workers come from the gateway's staff records.)
NOT_404: dict[str, tuple[int, str]] = {}
# What the county caller adds to a body (fields a community admin's own community fills in).
COUNTY_BODIES: dict[str, dict[str, object]] = {}
WEBHOOK_SCOPE = "cases:read"  # a read scope of the proxy's events

# GET routes without a path id that are not community data (or need a permission a community
# admin lacks, so a chaoyang caller cannot reach them at all).
LIST_EXCLUDED: dict[str, str] = {
    "GET /api/v1/proxy/reveals": "needs audit:read, a county role (auditor): the county caller's",
    "GET /api/v1/proxy/audit": "needs audit:read, a county role (auditor): the county caller's",
    "GET /api/v1/proxy/audit/verify": "needs audit:read, a county role (auditor): the county caller's",
}


# Who calls: HOME's community admin (a community of the same county as OTHER), or the county
# admin of the second county (another county: OTHER's records must be as absent to it).
CALLERS = ["community", "county"]


def _headers(caller: str, tokens: Tokens, path: str, webhook_scope: str) -> dict[str, str]:
    if caller == "county":
        return county_caller(tokens, SECOND_COUNTY)
    return caller_headers(tokens, path, webhook_scope)


def _skip_client_routes_for_counties(caller: str, path: str) -> None:
    if caller == "county" and is_webhook_route(path):
        pytest.skip("webhook routes are a machine client's (HOME's client holds them); a client has no county")


_TRACE_QUERIES = [
    "SELECT id FROM resident WHERE community = 'zhenhuai'",
    "SELECT id FROM household WHERE community = 'zhenhuai'",
    "SELECT id FROM proxy_case WHERE community = 'zhenhuai'",
    "SELECT id FROM proxy_visit WHERE community = 'zhenhuai'",
    "SELECT username FROM worker_profile WHERE community = 'zhenhuai'",
    "SELECT code FROM compound WHERE community = 'zhenhuai'",
]
_WEBHOOK_TABLES: dict[int, bool] = {}


async def _add_leads_and_runs(app: FastAPI) -> None:
    """The demo seed has no discovery leads or runs: add one per community (rows, not a run,
    which would need the catalogue service)."""
    now = utcnow()
    async with app.state.sessionmaker() as session:
        for community in (HOME, OTHER):
            resident = (
                await session.exec(
                    select(Resident)
                    .where(Resident.community == community, Resident.status == "active")
                    .order_by(Resident.id)
                    .limit(1)
                )
            ).one()
            session.add(
                DiscoveryLead(
                    resident_id=resident.id,
                    item_code="elderly-allowance",
                    community=community,
                    grid=resident.grid,
                    verdict="eligible",
                    first_seen_at=now,
                    last_confirmed_at=now,
                )
            )
            session.add(
                DiscoveryRun(
                    scope=community,
                    status="completed",
                    eval_date=local_today(),
                    started_by=f"{community}.admin",
                    started_at=now - dt.timedelta(minutes=5),
                    heartbeat_at=now,
                    finished_at=now,
                )
            )
        await session.commit()


async def _add_material_files(app: FastAPI) -> None:
    """A photo on the first material of each community's first case with a checklist (the case
    ``PARAM_QUERIES`` picks), so the file routes have a record of each community."""
    async with app.state.engine.connect() as conn:
        rows = (
            await conn.execute(
                text(
                    "SELECT c.community, MIN(CAST(c.id AS VARCHAR(36))) FROM proxy_case c WHERE EXISTS "
                    "(SELECT 1 FROM proxy_case_material m WHERE m.case_id = c.id) GROUP BY c.community"
                )
            )
        ).all()
        visits = (
            await conn.execute(
                text("SELECT community, MIN(CAST(id AS VARCHAR(36))) FROM proxy_visit GROUP BY community")
            )
        ).all()
    for _community, case_id in rows:
        await seed_case_file(app, case_id)
    for _community, visit_id in visits:
        await seed_visit_file(app, visit_id)


@pytest.fixture(scope="module")
async def seeded_proxy(proxy_app: FastAPI) -> AsyncIterator[FastAPI]:
    """Demo data once per backend (other modules' clients empty the tables before each test)."""
    await reset_tables(proxy_app, metadata)
    async with proxy_app.state.sessionmaker() as session:
        await seed(session, proxy_app.state.pii)
        await session.commit()
    async with proxy_app.state.engine.begin() as conn:
        # The seed queues every resident for re-evaluation, and each leads call would drain
        # 200 of them (seconds each); the matrix needs only the leads added below.
        await conn.execute(text("DELETE FROM discovery_pending"))
    await _add_leads_and_runs(proxy_app)
    await _add_material_files(proxy_app)
    _WEBHOOK_TABLES[id(proxy_app)] = await add_webhook_rows(proxy_app, metadata)
    catalog = proxy_app.state.catalog
    saved = (catalog._snapshot, catalog._etag, catalog._checked)
    catalog.prime(seed_snapshot())  # leads and eligibility read the catalogue
    try:
        with second_county(proxy_app.state.directory):
            yield proxy_app
    finally:  # the app is shared with other modules: leave its catalogue as found
        catalog._snapshot, catalog._etag, catalog._checked = saved


def _skip_unmigrated_webhooks(app: FastAPI, case: RouteCase) -> None:
    if is_webhook_route(case.path) and not _WEBHOOK_TABLES[id(app)]:
        pytest.skip("the proxy's migrations do not create the webhook tables yet")


@pytest.fixture(scope="module")
async def client(seeded_proxy: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(seeded_proxy) as c:
        yield c


@pytest.fixture(scope="module")
async def traces(seeded_proxy: FastAPI) -> Traces:
    found = Traces()
    await found.load(seeded_proxy, _TRACE_QUERIES)
    assert len(found.strings) > 100
    return found


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("case", ID_ROUTES, ids=lambda c: c.id)
async def test_record_of_another_community_answers_404(
    case: RouteCase, caller: str, seeded_proxy: FastAPI, client: httpx.AsyncClient, tokens: Tokens
) -> None:
    _skip_unmigrated_webhooks(seeded_proxy, case)
    _skip_client_routes_for_counties(caller, case.path)
    route = find_route(seeded_proxy, case)
    url = await resolve_path(seeded_proxy, "proxy", case.path)
    headers = _headers(caller, tokens, case.path, WEBHOOK_SCOPE)
    kwargs: dict[str, object] = {}
    if case.method != "GET":
        headers |= WRITE_HEADERS
    if route.body_field is not None:
        assert (case.method, case.path) in BODIES, f"no body for {case.id} in BODIES"
        kwargs["json"] = BODIES[(case.method, case.path)]
        if caller == "county":  # a county admin names the community (they have none of their own)
            kwargs["json"] = {**BODIES[(case.method, case.path)], **COUNTY_BODIES.get(case.id, {})}
    r = await client.request(case.method, url, headers=headers, **kwargs)  # type: ignore[arg-type]
    expected, _reason = NOT_404.get(case.id, (404, ""))
    assert r.status_code == expected, f"{case.id} → {url}: {r.status_code} {r.text[:300]}"
    if expected == 404:
        assert r.headers["content-type"].startswith("application/problem+json")
        assert not problem_mentions_other(r.json()), r.text


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("case", LIST_ROUTES, ids=lambda c: c.id)
async def test_lists_carry_no_trace_of_another_community(
    case: RouteCase,
    caller: str,
    seeded_proxy: FastAPI,
    client: httpx.AsyncClient,
    tokens: Tokens,
    traces: Traces,
) -> None:
    if case.id in LIST_EXCLUDED and caller == "community":
        pytest.skip(LIST_EXCLUDED[case.id])
    _skip_unmigrated_webhooks(seeded_proxy, case)
    _skip_client_routes_for_counties(caller, case.path)
    headers = _headers(caller, tokens, case.path, WEBHOOK_SCOPE)
    if caller == "county" and case.id in LIST_EXCLUDED:  # the audit reads: the second county's auditor
        headers = county_caller(tokens, SECOND_COUNTY, "auditor")
    params = {"limit": "200"}
    r = await client.get(case.path, params=params, headers=headers)
    if r.status_code == 422 and "limit" in r.text:
        r = await client.get(case.path, headers=headers)
    assert r.status_code == 200, f"{case.id}: {r.status_code} {r.text[:300]}"
    body = r.json()
    if caller == "community":  # the second county has no records here: its lists may be empty
        assert body, f"{case.id} answered nothing: the check would prove nothing"
        if isinstance(body, dict) and "items" in body:
            assert body["items"], f"{case.id} lists nothing of {HOME}: the check would prove nothing"
    leaks = traces.find(body)
    assert not leaks, f"{case.id} shows {OTHER}: {leaks[:5]}"


async def test_the_matrix_has_records_of_both_communities(seeded_proxy: FastAPI) -> None:
    async with seeded_proxy.state.engine.connect() as conn:
        for table in ("resident", "demand", "proxy_case", "proxy_visit", "discovery_lead"):
            rows = dict((await conn.execute(text(f"SELECT community, COUNT(*) FROM {table} GROUP BY community"))).all())
            assert rows.get(HOME) and rows.get(OTHER), (table, rows)


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("case", FILTERS, ids=lambda c: c.id)
async def test_filters_and_searches_naming_another_community_find_nothing(
    case: FilterCase,
    caller: str,
    seeded_proxy: FastAPI,
    client: httpx.AsyncClient,
    tokens: Tokens,
    traces: Traces,
) -> None:
    if f"GET {case.path}" in LIST_EXCLUDED and caller == "community":
        pytest.skip(LIST_EXCLUDED[f"GET {case.path}"])
    value = await filter_value(seeded_proxy, "proxy", case.param)
    r = await client.get(case.path, params={case.param: value}, headers=_headers(caller, tokens, case.path, ""))
    assert r.status_code in (200, 403, 404), f"{case.id}{value}: {r.status_code} {r.text[:300]}"
    if r.status_code == 200:
        body = r.json()
        leaks = traces.find(body, echo=(case.param, value))
        assert not leaks, f"{case.id}{value} shows {OTHER}: {leaks[:5]}"
        if "figures" in case.path:
            assert not nonzero_numbers(body), f"{case.id}{value} counts {OTHER}: {body}"


@pytest.mark.parametrize("caller", CALLERS)
async def test_the_whole_sync_feed_carries_no_record_of_another_community(
    caller: str, client: httpx.AsyncClient, tokens: Tokens, traces: Traces
) -> None:
    headers = _headers(caller, tokens, "/api/v1/proxy/sync", "")
    params: dict[str, str] = {"limit": "500"}
    seen = 0
    for _page in range(100):
        r = await client.get("/api/v1/proxy/sync", params=params, headers=headers)
        assert r.status_code == 200, r.text[:300]
        body = r.json()
        leaks = traces.find(body)
        assert not leaks, f"the sync feed shows {OTHER}: {leaks[:5]}"
        seen += sum(len(v) for v in body.values() if isinstance(v, list))
        if not body["has_more"]:
            break
        params = {"limit": "500", "since": body["cursor"]}
    else:
        raise AssertionError("the sync feed never ends")
    if caller == "community":
        assert seen > 1000  # the whole of chaoyang's ledger went by


async def _refs(app: FastAPI) -> tuple[dict[str, str], dict[str, str]]:
    """References to OTHER's records for bodies of routes without a path id, and the same
    references to records that do not exist at all."""
    async with app.state.engine.connect() as conn:
        resident_id, id_enc = (
            await conn.execute(
                text(
                    "SELECT id, id_number_enc FROM resident WHERE community = 'zhenhuai' "
                    "AND status = 'active' ORDER BY id LIMIT 1"
                )
            )
        ).one()
        case_id = (
            await conn.execute(text("SELECT id FROM proxy_case WHERE community = 'zhenhuai' ORDER BY id LIMIT 1"))
        ).scalar_one()
        compound = (
            await conn.execute(text("SELECT code FROM compound WHERE community = 'zhenhuai' ORDER BY code LIMIT 1"))
        ).scalar_one()
    other = {
        "resident_id": uuid_text(resident_id),
        "id_number": app.state.pii.decrypt(id_enc, context=ID_CTX),
        "case_id": uuid_text(case_id),
        "compound": compound,
    }
    absent = {
        "resident_id": str(uuid.uuid4()),
        "id_number": valid_id_number("34052319000101999"),
        "case_id": str(uuid.uuid4()),
        "compound": "no-such-compound",
    }
    return other, absent


def _write_body(case_id: str, ref: dict[str, str]) -> dict[str, object] | None:
    """The body of a write without a path id that names ``ref``'s records."""
    new_person = valid_id_number("34052319900307123")
    bodies: dict[str, dict[str, object]] = {
        "POST /api/v1/proxy/residents/lookup": {"id_number": ref["id_number"]},
        "POST /api/v1/proxy/residents": {
            "name": "卢思远",
            "id_number": new_person,
            "compound": ref["compound"],
        },
        "POST /api/v1/proxy/demands": {
            "resident_id": ref["resident_id"],
            "channel": "window",
            "text": "咨询高龄补贴",
        },
        "POST /api/v1/proxy/cases": {
            "resident_id": ref["resident_id"],
            "item_code": "elderly-allowance",
            "channel": "window",
        },
        "POST /api/v1/proxy/visits": {
            "case_ids": [ref["case_id"]],
            "planned_date": local_today().isoformat(),
        },
    }
    return bodies.get(case_id)


# Writes without a path id that are not a reference to another record: expected answer, why.
WRITES_OTHERWISE: dict[str, tuple[dict[str, object], set[int], str]] = {
    "POST /api/v1/proxy/discovery/runs": (
        {"scope": OTHER},
        {403, 404},
        "a community admin runs discovery over their own community only",
    ),
    "POST /api/v1/proxy/admin/purge": (
        {},
        {403},
        "retention purge: users:manage, county admins only (no community scope)",
    ),
}
# Writes without a path id left out of the matrix, with the reason.
WRITES_EXCLUDED: dict[str, str] = {
    "POST /api/v1/proxy/residents/import": (
        "bulk CSV import: rows naming another community's compounds are row errors (tests/proxy/test_import.py)"
    ),
    "POST /api/v1/proxy/webhooks/subscriptions": (
        "a machine client's own subscription: see test_a_client_cannot_subscribe_to_..."
    ),
    "POST /api/v1/proxy/batch": (
        "each operation is a request of the app, held by this matrix on its own route; "
        "tests/proxy/test_batch.py: another community's resident is a 404 in its result"
    ),
}


# Writes a county admin may make that name no community's record: left out for the county caller.
COUNTY_WRITES_EXCLUDED: dict[str, str] = {
    "POST /api/v1/proxy/admin/purge": "retention purge of expired records: the county admin's (users:manage), not a record",
}


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("case", WRITES_WITHOUT_ID, ids=lambda c: c.id)
async def test_writes_naming_another_communitys_records_answer_as_if_absent(
    case: RouteCase,
    caller: str,
    seeded_proxy: FastAPI,
    client: httpx.AsyncClient,
    tokens: Tokens,
) -> None:
    """A body naming another community's record gets exactly the answer a body naming no
    record at all gets (same status, same problem code)."""
    if case.id in WRITES_EXCLUDED:
        pytest.skip(WRITES_EXCLUDED[case.id])
    if caller == "county" and case.id in COUNTY_WRITES_EXCLUDED:
        pytest.skip(COUNTY_WRITES_EXCLUDED[case.id])
    headers = _headers(caller, tokens, case.path, "")
    if case.id in WRITES_OTHERWISE:
        body, expected, why = WRITES_OTHERWISE[case.id]
        r = await client.request(case.method, case.path, json=body, headers=headers)
        assert r.status_code in expected, f"{case.id} ({why}): {r.status_code} {r.text[:300]}"
        return
    other, absent = await _refs(seeded_proxy)
    other_body, absent_body = _write_body(case.id, other), _write_body(case.id, absent)
    assert other_body is not None and absent_body is not None, (
        f"{case.id} is not in the tenancy matrix: add a body, or a reason to leave it out"
    )
    got = await client.request(case.method, case.path, json=other_body, headers=headers)
    baseline = await client.request(case.method, case.path, json=absent_body, headers=headers)
    assert got.status_code < 500 and got.status_code != 403, got.text[:300]
    if got.status_code < 300:  # only a search may succeed, and then it finds nothing
        assert got.json().get("items") == [], f"{case.id} reached {OTHER}: {got.text[:300]}"
    assert (got.status_code, got.json().get("code")) == (
        baseline.status_code,
        baseline.json().get("code"),
    ), f"{case.id}: {got.text[:300]} vs as if absent: {baseline.text[:300]}"
    assert not problem_mentions_other(got.json()), got.text


async def test_a_client_cannot_subscribe_to_another_communitys_events(
    seeded_proxy: FastAPI, client: httpx.AsyncClient, tokens: Tokens
) -> None:
    if not _WEBHOOK_TABLES[id(seeded_proxy)]:
        pytest.skip("the proxy's migrations do not create the webhook tables yet")
    r = await subscribe_to_other(client, tokens, "/api/v1/proxy", WEBHOOK_SCOPE)
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["field"] == "body.communities"


async def _home_case(app: FastAPI) -> str:
    async with app.state.engine.connect() as conn:
        value = (
            await conn.execute(text("SELECT id FROM proxy_case WHERE community = 'chaoyang' ORDER BY id LIMIT 1"))
        ).scalar_one()
    return uuid_text(value)


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/demands", {"community": OTHER, "channel": "window", "text": "咨询高龄补贴"}),
        ("POST", "/demands", {"grid": f"{OTHER}-g1", "channel": "window", "text": "咨询高龄补贴"}),
        ("POST", "/cases/{home_case}/assignment", {"assigned_to": f"{OTHER}.worker", "reason": "rebalance"}),
        ("POST", "/cases/{home_case}/assignment", {"assigned_grid": f"{OTHER}-g1", "reason": "rebalance"}),
    ],
    ids=lambda v: v if isinstance(v, str) else ",".join(sorted(v)),
)
async def test_nothing_is_written_into_another_community(
    method: str,
    path: str,
    body: dict[str, object],
    seeded_proxy: FastAPI,
    client: httpx.AsyncClient,
    tokens: Tokens,
) -> None:
    """Creating or moving records into another community (or handing work to its staff) is
    refused with a 4xx (403/404/422), never done."""
    url = "/api/v1/proxy" + path.replace("{home_case}", await _home_case(seeded_proxy))
    r = await client.request(method, url, json=body, headers=caller_headers(tokens, url, ""))
    assert r.status_code in (403, 404, 422), f"{method} {path} {body}: {r.status_code} {r.text[:300]}"
    if r.status_code == 422:  # refused by the tenancy rule on that field, not by the schema
        field = r.json()["errors"][0]["field"]
        assert field.split(".")[1] in body and field.split(".")[1] != "display_name", r.text


# --- the other way round: hexian's county roles against the second county's records ---------


async def test_a_county_role_sees_its_own_county_only(
    seeded_proxy: FastAPI, client: httpx.AsyncClient, tokens: Tokens
) -> None:
    """A resident registered in the second county is absent to hexian's county admin and
    auditor (404, not listed) and present to the second county's admin; hexian's county roles
    still see every community of hexian, and a county role without a county (a single-county
    deployment's) sees both counties."""
    await seeded_proxy.state.directory.refresh()  # the placement listener adds the new compound
    theirs = county_caller(tokens, SECOND_COUNTY)
    r = await client.post(
        "/api/v1/proxy/residents",
        json={"name": "卢思远", "id_number": valid_id_number("34052519900307123"), "compound": SECOND_COMPOUND},
        headers=theirs,
    )
    assert r.status_code == 201, r.text
    resident = r.json()["id"]
    assert r.json()["community"] == SECOND_COMMUNITY
    assert (await client.get(f"/api/v1/proxy/residents/{resident}", headers=theirs)).status_code == 200

    for role in ("county_admin", "auditor"):
        ours = county_caller(tokens, COUNTY, role)
        r = await client.get(f"/api/v1/proxy/residents/{resident}", headers=ours)
        assert r.status_code == 404, f"{role}: {r.text[:300]}"
        assert SECOND_COMMUNITY not in r.text
        r = await client.get("/api/v1/proxy/residents", params={"community": SECOND_COMMUNITY}, headers=ours)
        assert r.status_code in (200, 404) and resident not in r.text, f"{role}: {r.text[:300]}"
        seen: set[str] = set()
        for community in (HOME, OTHER):
            r = await client.get("/api/v1/proxy/residents", params={"community": community}, headers=ours)
            assert r.status_code == 200, r.text[:300]
            seen |= {item["community"] for item in r.json()["items"]}
        assert seen == {HOME, OTHER}, f"{role} of {COUNTY} sees {seen}"

    r = await client.get("/api/v1/proxy/residents", params={"community": HOME}, headers=theirs)
    assert r.status_code in (200, 404) and not (r.status_code == 200 and r.json()["items"]), r.text[:300]

    single = tokens.headers("county_admin", community=None, subject="county.admin")
    r = await client.get(f"/api/v1/proxy/residents/{resident}", headers=single)
    assert r.status_code == 200, r.text[:300]
