"""The cross-community (tenancy) matrix: resolve path ids to another community's records.

A caller of community A (``chaoyang``) names a record of community B (``zhenhuai``) in every
route with a path id; the record must answer 404 as if absent. Lists, searches, figures and
the sync feed must carry no trace of B. The modules tests/{proxy,stations,gateway}/
test_tenancy_matrix.py generate one case per (method, path) from the apps' routes; this module
holds what they share: the param-name → SQL table (an unmapped name fails the matrix, so new
routes join it), the request bodies, the filters that name B, and the leak detector.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from sqlalchemy import MetaData, text
from sqlalchemy import inspect as sa_inspect

from doorstep_shared.auth.security import iter_api_routes
from doorstep_shared.clock import local_today, utcnow
from doorstep_shared.directory import Community, Compound, County, Directory, Grid
from doorstep_shared.directory_copy import DirectoryCopy

from .support import Tokens, truncate_all

HOME = "chaoyang"
OTHER = "zhenhuai"
# A second county beside the demo's (hexian, where HOME and OTHER lie): its county roles must
# meet OTHER's records exactly as HOME's community admin does, and hexian's must not see it.
COUNTY = "hexian"
SECOND_COUNTY = "hanshan"
SECOND_COMMUNITY = "huanfeng"
SECOND_COMPOUND = "huanfeng-c1"
# Webhook subscriptions belong to a machine client (the owner), not to a community: the matrix
# calls those routes as HOME's client against a subscription of OTHER's client.
HOME_CLIENT = "chaoyang-platform"
OTHER_CLIENT = "zhenhuai-platform"
SKIPPED_PATHS = {"/healthz", "/readyz", "/metrics"}

# param name → SQL returning one row, one column: a record that belongs to OTHER. Queries may
# bind the raw values of params resolved before them in the same path (``:code`` ...). A key
# ``previous/name`` is for ``{name}`` right after ``{previous}`` (the same name under another parent).
# Per-service tables: the same name can mean different records (``code``).
WEBHOOK_QUERIES = {
    "subscription_id": ("SELECT id FROM webhook_subscription WHERE owner = 'zhenhuai-platform' ORDER BY id LIMIT 1"),
    "delivery_id": ("SELECT id FROM webhook_delivery WHERE subscription_id = :subscription_id ORDER BY id LIMIT 1"),
}
PARAM_QUERIES: dict[str, dict[str, str]] = {
    "proxy": {
        **WEBHOOK_QUERIES,
        "code": "SELECT code FROM compound WHERE community = 'zhenhuai' ORDER BY code LIMIT 1",
        "household_id": "SELECT id FROM household WHERE community = 'zhenhuai' ORDER BY id LIMIT 1",
        "resident_id": (
            "SELECT id FROM resident WHERE community = 'zhenhuai' AND status = 'active' ORDER BY id LIMIT 1"
        ),
        "username": ("SELECT username FROM worker_profile WHERE community = 'zhenhuai' ORDER BY username LIMIT 1"),
        "grid": "SELECT grid FROM resident WHERE community = 'zhenhuai' ORDER BY grid LIMIT 1",
        "demand_id": "SELECT id FROM demand WHERE community = 'zhenhuai' ORDER BY id LIMIT 1",
        # a case with a materials checklist, so that /materials/{position} has a real line
        "case_id": (
            "SELECT c.id FROM proxy_case c WHERE c.community = 'zhenhuai' AND EXISTS "
            "(SELECT 1 FROM proxy_case_material m WHERE m.case_id = c.id) ORDER BY c.id LIMIT 1"
        ),
        "position": "SELECT MIN(position) FROM proxy_case_material WHERE case_id = :case_id",
        # the matrix's fixture puts a photo on that material (tests/proxy/files/uploads.py)
        "file_id": "SELECT id FROM proxy_case_file WHERE case_id = :case_id AND position = :position",
        "visit_id": "SELECT id FROM proxy_visit WHERE community = 'zhenhuai' ORDER BY id LIMIT 1",
        # a file under a visit (``previous/name``: the param before it picks the query)
        "visit_id/file_id": "SELECT id FROM proxy_visit_file WHERE visit_id = :visit_id",
        "lead_id": "SELECT id FROM discovery_lead WHERE community = 'zhenhuai' ORDER BY id LIMIT 1",
        "run_id": "SELECT id FROM discovery_run WHERE scope = 'zhenhuai' ORDER BY id LIMIT 1",
    },
    "stations": {
        **WEBHOOK_QUERIES,
        # the zhenhuai station the fixture gave sessions, bookings, tickets and exceptions
        "code": "SELECT s.code FROM station s WHERE s.code = 'zhenhuaiyuan'",
        "service_code": (
            "SELECT x.code FROM station_service x JOIN station s ON s.id = x.station_id "
            "WHERE s.code = :code ORDER BY x.id LIMIT 1"
        ),
        "rule_id": (
            "SELECT r.id FROM hours_rule r JOIN station s ON s.id = r.station_id "
            "WHERE s.code = :code ORDER BY r.id LIMIT 1"
        ),
        "exception_id": (
            "SELECT e.id FROM hours_exception e JOIN station s ON s.id = e.station_id "
            "WHERE s.code = :code ORDER BY e.id LIMIT 1"
        ),
        "session_id": ("SELECT id FROM service_session WHERE community = 'zhenhuai' ORDER BY id LIMIT 1"),
        "booking_id": "SELECT id FROM booking WHERE community = 'zhenhuai' ORDER BY id LIMIT 1",
        "ticket_id": ("SELECT id FROM dropoff_ticket WHERE community = 'zhenhuai' ORDER BY id LIMIT 1"),
    },
}


def _in_days(days: int) -> dt.date:
    return local_today() + dt.timedelta(days=days)


def _at(days: int, hour: int) -> str:
    day = _in_days(days)
    return dt.datetime(day.year, day.month, day.day, hour, tzinfo=dt.UTC).isoformat()


# Minimal VALID bodies per (method, path): the tenancy check, not body validation, must answer.
BODIES: dict[tuple[str, str], dict[str, Any]] = {
    # proxy
    ("PATCH", "/api/v1/proxy/compounds/{code}"): {"buildings": 12},
    ("PATCH", "/api/v1/proxy/residents/{resident_id}"): {"living_alone": True},
    ("POST", "/api/v1/proxy/residents/{resident_id}/removal"): {
        "status": "moved_away",
        "reason": "moved to another county",
    },
    ("POST", "/api/v1/proxy/residents/{resident_id}/reveal"): {
        "reason": "phone call to arrange a visit",
        "fields": ["phone"],
    },
    ("PUT", "/api/v1/proxy/workers/{username}"): {"categories": ["elderly"], "status": "active"},
    ("POST", "/api/v1/proxy/demands/{demand_id}/answer"): {"answer": "Answered by phone."},
    ("POST", "/api/v1/proxy/demands/{demand_id}/conversion"): {"case_ref": "CASE-1"},
    ("POST", "/api/v1/proxy/demands/{demand_id}/closure"): {"note": "done"},
    ("POST", "/api/v1/proxy/cases/{case_id}/transitions"): {"to": "withdrawn", "note": "x"},
    ("POST", "/api/v1/proxy/cases/{case_id}/assignment"): {
        "assigned_to": "chaoyang.worker",
        "reason": "rebalance",
    },
    ("PUT", "/api/v1/proxy/cases/{case_id}/due-date"): {
        "due_date": _in_days(30).isoformat(),
        "reason": "waiting for papers",
    },
    ("PUT", "/api/v1/proxy/cases/{case_id}/materials/{position}"): {"collected": "copy_taken"},
    ("POST", "/api/v1/proxy/cases/{case_id}/materials/{position}/files"): {"size": 1000},
    ("PATCH", "/api/v1/proxy/visits/{visit_id}"): {"notes": "bring the form"},
    ("POST", "/api/v1/proxy/visits/{visit_id}/check-in"): {},
    ("POST", "/api/v1/proxy/visits/{visit_id}/check-out"): {"outcome": "done"},
    ("POST", "/api/v1/proxy/visits/{visit_id}/files"): {"size": 1000},
    ("POST", "/api/v1/proxy/leads/{lead_id}/contacted"): {"note": "called"},
    ("POST", "/api/v1/proxy/leads/{lead_id}/declined"): {"reason": "not interested"},
    ("POST", "/api/v1/proxy/leads/{lead_id}/conversion"): {"channel": "doorstep"},
    ("POST", "/api/v1/proxy/webhooks/subscriptions/{subscription_id}/rotate-secret"): {"overlap_hours": 1},
    ("POST", "/api/v1/stations/webhooks/subscriptions/{subscription_id}/rotate-secret"): {"overlap_hours": 1},
    # stations
    ("PATCH", "/api/v1/stations/stations/{code}"): {"contact": "0517-0000000"},
    ("POST", "/api/v1/stations/stations/{code}/services"): {
        "code": "tenancy-probe",
        "name": "探针服务",
        "kind": "appointment",
    },
    ("PATCH", "/api/v1/stations/stations/{code}/services/{service_code}"): {"featured": False},
    ("POST", "/api/v1/stations/stations/{code}/hours/rules"): {
        "weekdays": [5],
        "opens": "09:00:00",
        "closes": "11:00:00",
    },
    ("POST", "/api/v1/stations/stations/{code}/hours/exceptions"): {
        "kind": "closed",
        "start_date": _in_days(40).isoformat(),
        "end_date": _in_days(40).isoformat(),
        "reason": "probe",
    },
    ("POST", "/api/v1/stations/stations/{code}/services/{service_code}/sessions"): {
        "title": "探针课",
        "starts_at": _at(20, 2),
        "ends_at": _at(20, 3),
        "capacity": 5,
    },
    ("POST", "/api/v1/stations/sessions/{session_id}/cancel"): {"reason": "probe"},
    ("POST", "/api/v1/stations/sessions/{session_id}/bookings"): {
        "name": "樊一鸣",
        "phone": "13912345678",
    },
    ("POST", "/api/v1/stations/stations/{code}/tickets"): {
        "name": "樊一鸣",
        "phone": "13912345678",
        "item": "a coat",
        "request": "mend the sleeve",
    },
    ("POST", "/api/v1/stations/tickets/{ticket_id}/status"): {"status": "in_progress"},
    ("POST", "/api/v1/stations/tickets/{ticket_id}/collect"): {"phone_last4": "5678"},
}

# A stale If-Match on every write: should tenancy fail open, the write answers 412 instead of
# changing another community's record (and the case still fails).
WRITE_HEADERS = {"If-Match": '"tenancy-probe-stale"'}


@dataclass(frozen=True)
class RouteCase:
    method: str
    path: str

    @property
    def id(self) -> str:
        return f"{self.method} {self.path}"


def route_cases(app: FastAPI, *, with_params: bool) -> list[RouteCase]:
    """(method, path) of every API route, with or without path params."""
    cases = []
    for route in iter_api_routes(app):
        if route.path in SKIPPED_PATHS:
            continue
        if ("{" in route.path) != with_params:
            continue
        for method in sorted(route.methods or ()):
            cases.append(RouteCase(method, route.path))
    return cases


def find_route(app: FastAPI, case: RouteCase) -> APIRoute:
    for route in iter_api_routes(app):
        if route.path == case.path and case.method in (route.methods or ()):
            return route  # type: ignore[no-any-return]
    raise AssertionError(f"route {case.id} is gone")


def two_counties(directory: Directory) -> Directory:
    """``directory`` (the demo county's) with a second county: one community, grid and compound."""
    return Directory.of(
        (*directory.counties, County(SECOND_COUNTY, "含山县")),
        (*directory.communities, Community(SECOND_COMMUNITY, "环峰镇", SECOND_COUNTY)),
        (*directory.grids, Grid(f"{SECOND_COMMUNITY}-g1", "第一网格", SECOND_COMMUNITY, 1)),
        (
            *directory.compounds,
            Compound(
                SECOND_COMPOUND, "环峰苑", SECOND_COMMUNITY, f"{SECOND_COMMUNITY}-g1", address="含山县环峰镇环峰苑"
            ),
        ),
    )


@contextmanager
def second_county(copy: DirectoryCopy) -> Iterator[None]:
    """The app's directory copy holds the second county for the duration (then as found)."""
    before = copy.current
    assert before is not None
    copy.prime(two_counties(before))
    try:
        yield
    finally:
        copy.prime(before)


def county_caller(tokens: Tokens, county: str, role: str = "county_admin") -> dict[str, str]:
    """A county role of ``county`` (its token names the county, no community)."""
    return tokens.headers(role, county=county, community=None, subject=f"{county}.{role}")


def is_webhook_route(path: str) -> bool:
    return "/webhooks/" in path


def caller_headers(tokens: Tokens, path: str, webhook_scope: str) -> dict[str, str]:
    """HOME's community admin; for webhook routes HOME's machine client holding a read scope
    of the service's events (a community admin may not use them: 403 by design)."""
    if is_webhook_route(path):
        return tokens.headers(None, kind="client", scopes=(webhook_scope,), communities=(HOME,), subject=HOME_CLIENT)
    return tokens.headers("community_admin", community=HOME, subject=f"{HOME}.admin")


async def table_exists(app: FastAPI, name: str) -> bool:
    async with app.state.engine.connect() as conn:
        names = await conn.run_sync(lambda sync: sa_inspect(sync).get_table_names())
    return name in names


async def add_webhook_rows(app: FastAPI, metadata: MetaData) -> bool:
    """A subscription (with one delivery) per client; False when the service's migrations do
    not create the webhook tables (yet)."""
    if not await table_exists(app, "webhook_subscription"):
        return False
    subs, deliveries = metadata.tables["webhook_subscription"], metadata.tables["webhook_delivery"]
    now = utcnow()
    async with app.state.engine.begin() as conn:
        for owner, community in ((HOME_CLIENT, HOME), (OTHER_CLIENT, OTHER)):
            sub_id = (
                await conn.execute(
                    subs.insert()
                    .values(
                        owner=owner,
                        url=f"https://{community}.example.org/hooks",
                        description=f"{community} platform",
                        event_types=["*"],
                        communities=[community],
                        active=True,
                        secret_cipher="not-a-real-secret",
                        created_at=now,
                        updated_at=now,
                        version=1,
                    )
                    .returning(subs.c.id)
                )
            ).scalar_one()
            await conn.execute(
                deliveries.insert().values(
                    event_id=f"evt-{community}-{sub_id}",
                    event_type="probe",
                    subscription_id=sub_id,
                    resource=f"probe:{community}",
                    community=community,
                    payload={"community": community},
                    status="delivered",
                    attempts=1,
                    created_at=now,
                )
            )
    return True


def _param_names(path: str) -> list[str]:
    return re.findall(r"{([^}:]+)(?::[^}]*)?}", path)


def _as_path_value(raw: Any) -> str:
    """A raw DB value as it appears in a URL (SQLite keeps UUIDs as 32 hex digits)."""
    if isinstance(raw, uuid.UUID):
        return str(raw)
    if isinstance(raw, str) and re.fullmatch(r"[0-9a-f]{32}", raw):
        return str(uuid.UUID(raw))
    return str(raw)


async def resolve_path(app: FastAPI, service: str, path: str) -> str:
    """The path with every param replaced by the id/code of a record of OTHER."""
    queries = PARAM_QUERIES[service]
    raw: dict[str, Any] = {}
    resolved = path
    previous = ""
    async with app.state.engine.connect() as conn:
        for name in _param_names(path):
            key, previous = (f"{previous}/{name}" if f"{previous}/{name}" in queries else name), name
            if key not in queries:
                pytest.fail(
                    f"path param {{{name}}} of {path} is not in the tenancy matrix: add it to "
                    f"PARAM_QUERIES[{service!r}] in tests/tenancy_support.py"
                )
            sql = queries[key]
            binds = {k: v for k, v in raw.items() if f":{k}" in sql}
            value = (await conn.execute(text(sql), binds)).scalar()
            assert value is not None, f"no {OTHER} record for {{{name}}}: {sql}"
            raw[name] = value
            resolved = resolved.replace(f"{{{name}}}", _as_path_value(value))
    return resolved


@dataclass
class Traces:
    """Identifiers of OTHER's records a response must never carry."""

    strings: set[str] = field(default_factory=set)

    async def load(self, app: FastAPI, queries: list[str]) -> None:
        async with app.state.engine.connect() as conn:
            for sql in queries:
                for (value,) in (await conn.execute(text(sql))).all():
                    self.strings.add(_as_path_value(value))

    def find(self, body: Any, echo: tuple[str, str] | None = None) -> list[str]:
        """Where a JSON body mentions OTHER: a ``community`` of OTHER, a grid of OTHER, or
        any id/code of OTHER's records (as a value or a key). ``echo`` (key, value): the
        caller's own filter repeated back (``"community": "zhenhuai"``) is no leak."""
        return list(self._walk(body, "$", echo))

    def _hit(self, value: str) -> bool:
        return value in (OTHER, OTHER_CLIENT) or value.startswith(f"{OTHER}-g") or value in self.strings

    def _walk(self, node: Any, where: str, echo: tuple[str, str] | None) -> Iterator[str]:
        if isinstance(node, dict):
            for key, value in node.items():
                if echo is not None and (key, value) == echo:
                    continue
                if isinstance(key, str) and self._hit(key):
                    yield f"{where} key {key!r}"
                yield from self._walk(value, f"{where}.{key}", echo)
        elif isinstance(node, list):
            for i, value in enumerate(node):
                yield from self._walk(value, f"{where}[{i}]", echo)
        elif isinstance(node, str) and self._hit(node):
            yield f"{where} = {node!r}"


def problem_mentions_other(body: dict[str, Any]) -> bool:
    """Whether a 404 problem says more than the caller sent (``instance`` echoes the path)."""
    return OTHER in str({k: v for k, v in body.items() if k != "instance"})


async def reset_tables(app: FastAPI, metadata: MetaData) -> None:
    """Empty the service's tables that the migrations created (like ``truncate_all``, but
    tolerant of a model table whose migration is still being written)."""
    engine = app.state.engine
    async with engine.connect() as conn:
        existing = set(await conn.run_sync(lambda sync: sa_inspect(sync).get_table_names(schema=None)))
    subset = MetaData()
    for table in metadata.sorted_tables:
        if table.name in existing:
            table.to_metadata(subset)
    await truncate_all(engine, subset)


# Query filters that name OTHER (param name or alias → SQL for a value of OTHER). A search or a
# filter that names another community must find nothing (200 with no trace) or be refused.
FILTER_QUERIES: dict[str, dict[str, str]] = {
    "proxy": {
        "community": "SELECT 'zhenhuai'",
        "grid": "SELECT grid FROM resident WHERE community = 'zhenhuai' ORDER BY grid LIMIT 1",
        "compound": "SELECT code FROM compound WHERE community = 'zhenhuai' ORDER BY code LIMIT 1",
        "resident_id": "SELECT id FROM resident WHERE community = 'zhenhuai' ORDER BY id LIMIT 1",
        "worker": "SELECT 'zhenhuai.worker'",
        "assigned_to": "SELECT 'zhenhuai.worker'",
        "accepted_by": "SELECT 'zhenhuai.worker'",
        # names and last digits that occur only in OTHER (so a hit can only be a leak)
        "q": (
            "SELECT name FROM resident WHERE community = 'zhenhuai' AND name NOT IN "
            "(SELECT name FROM resident WHERE community <> 'zhenhuai') ORDER BY name LIMIT 1"
        ),
        "id_last4": (
            "SELECT id_last4 FROM resident WHERE community = 'zhenhuai' AND id_last4 NOT IN "
            "(SELECT id_last4 FROM resident WHERE community <> 'zhenhuai') "
            "ORDER BY id_last4 LIMIT 1"
        ),
    },
    "stations": {
        "community": "SELECT 'zhenhuai'",
        "station": "SELECT 'zhenhuaiyuan'",
    },
}


@dataclass(frozen=True)
class FilterCase:
    path: str
    param: str

    @property
    def id(self) -> str:
        return f"GET {self.path}?{self.param}="


def filter_cases(app: FastAPI, service: str) -> list[FilterCase]:
    cases = []
    for case in route_cases(app, with_params=False):
        if case.method != "GET":
            continue
        route = find_route(app, case)
        for param in route.dependant.query_params:
            name = getattr(param, "alias", None) or param.name
            if name in FILTER_QUERIES[service]:
                cases.append(FilterCase(case.path, name))
    return cases


async def filter_value(app: FastAPI, service: str, param: str) -> str:
    async with app.state.engine.connect() as conn:
        value = (await conn.execute(text(FILTER_QUERIES[service][param]))).scalar()
    assert value is not None, f"no {OTHER} value for the filter {param}"
    return _as_path_value(value)


def uuid_text(value: Any) -> str:
    """A UUID column's raw value (a UUID, or 32 hex digits on SQLite) as API text."""
    return _as_path_value(value)


def nonzero_numbers(body: Any, where: str = "$") -> list[str]:
    """Every number in a figures body that is not zero (figures of nothing are all zeros)."""
    if isinstance(body, dict):
        return [hit for k, v in body.items() for hit in nonzero_numbers(v, f"{where}.{k}")]
    if isinstance(body, list):
        return [hit for i, v in enumerate(body) for hit in nonzero_numbers(v, f"{where}[{i}]")]
    if isinstance(body, int | float) and not isinstance(body, bool) and body != 0:
        return [f"{where} = {body}"]
    return []


def valid_id_number(first17: str) -> str:
    """A GB 11643 ID number with its check digit (for a resident nobody has)."""
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    total = sum(int(d) * w for d, w in zip(first17, weights, strict=True))
    return first17 + "10X98765432"[total % 11]


async def subscribe_to_other(client: httpx.AsyncClient, tokens: Tokens, prefix: str, scope: str) -> httpx.Response:
    """HOME's machine client asks for OTHER's events (refused: not among its communities)."""
    headers = caller_headers(tokens, f"{prefix}/webhooks/", scope)
    types = (await client.get(f"{prefix}/webhooks/event-types", headers=headers)).json()
    event_type = next(t["type"] for t in types if scope in t["scopes"])
    return await client.post(
        f"{prefix}/webhooks/subscriptions",
        json={
            "url": "https://hooks.example.org/doorstep",
            "event_types": [event_type],
            "communities": [OTHER],
        },
        headers=headers,
    )
