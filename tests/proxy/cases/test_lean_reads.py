"""The lean case and visit reads (Core rows, one query per page for materials, covered cases and
residents, dicts written as JSON once: ``cases/reads.py``) answer exactly the bytes the response
models answer (``service.case_reads``, ``visits.visit_reads``, ``day_plan``, ``week_plan``): the same
pages, cursors, filters, ``?fields=`` trims, snapshots, masking and redaction, for every kind
of caller (a machine client included), over the demo data."""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from typing import Any

import httpx
import pytest
from pydantic import TypeAdapter
from sqlalchemy import func, select, update
from sqlmodel import col

from doorstep_proxy.cases import reads, service, sync, visits
from doorstep_proxy.cases.models import ProxyCase, Visit
from doorstep_proxy.cases.repository import MATERIAL_READ
from doorstep_proxy.cases.schemas import (
    CaseQuery,
    CaseRead,
    DayPlan,
    ItemSnapshot,
    MaterialRead,
    SnapshotMaterial,
    SnapshotStep,
    SyncPage,
    Tombstone,
    VisitRead,
)
from doorstep_proxy.demands.models import Demand
from doorstep_proxy.demands.service import demand_read
from doorstep_proxy.ledger import service as ledger
from doorstep_proxy.ledger.models import Compound, Household, Resident
from doorstep_proxy.ledger.schemas import CompoundRead
from doorstep_proxy.seed import seed
from doorstep_shared.auth.permissions import CLIENT_SCOPES, Permission, permissions_for_roles
from doorstep_shared.auth.tokens import Principal
from doorstep_shared.clock import local_today
from doorstep_shared.http.pagination import Page
from doorstep_shared.http.sparse import sparse, sparse_page

from ...support import Tokens
from ..helpers import BASE, admin, app_of, auditor, resident_body, worker
from .conftest import catalogue

PAGE_MODEL: TypeAdapter[Any] = TypeAdapter(sparse_page(CaseRead))
PLATFORM = "demo.platform"
ONLY_OWN = tuple(sorted(CLIENT_SCOPES - {Permission.CASES_READ_ALL}))
PHONE = "13912345678"

QUERIES: list[dict[str, Any]] = [
    {"limit": 20},
    {"open": True, "limit": 7},
    {"overdue": True},
    {"due_soon": True},
    {"status": "scheduled", "limit": 5},
    {"grid": "chaoyang-g6", "channel": "doorstep"},
    {"assigned_to": "chaoyang.worker", "limit": 4},
    {"fields": "resident,note,due_override_reason,snapshot,materials,materials_missing", "limit": 9},
    {"fields": "id", "limit": 5},
]


def _as_the_app_sees(principal: Principal) -> Principal:
    permissions = principal.scopes if principal.kind == "client" else permissions_for_roles(principal.roles)
    return dataclasses.replace(principal, permissions=frozenset(permissions))


def _callers(tokens: Tokens) -> dict[str, tuple[dict[str, str], Principal]]:
    as_worker = {"community": "chaoyang", "grid": "chaoyang-g6", "subject": "chaoyang.worker"}
    as_client: dict[str, Any] = {
        "kind": "client",
        "subject": PLATFORM,
        "scopes": ONLY_OWN,
        "communities": ("chaoyang",),
    }
    return {
        "worker": (worker(tokens), tokens.principal("social_worker", **as_worker)),
        "admin": (admin(tokens), tokens.principal("community_admin", subject="chaoyang.admin")),
        "auditor": (auditor(tokens), tokens.principal("auditor", community=None, subject="county.auditor")),
        "platform": (tokens.headers(None, **as_client), tokens.principal(None, **as_client)),
    }


async def _demo(proxy: httpx.AsyncClient, tokens: Tokens) -> dict[str, Any]:
    """The demo data, plus a case with a phone in its note and its deadline's reason, a ticked
    material, today's visit with a window and a phone in its notes, and a platform's demand
    behind a case of a visit covering several cases."""
    app = app_of(proxy)
    async with app.state.sessionmaker() as session:
        await seed(session, app.state.pii)
        await session.commit()
    app.state.catalog.prime(catalogue())
    h = worker(tokens)
    resident = await proxy.post(f"{BASE}/residents", json=resident_body(), headers=admin(tokens))
    assert resident.status_code == 201, resident.text
    body = {"resident_id": resident.json()["id"], "item_code": "elderly-allowance", "channel": "doorstep"}
    case = await proxy.post(f"{BASE}/cases", json={**body, "note": f"家属电话{PHONE}"}, headers=h)
    assert case.status_code == 201, case.text
    url = f"{BASE}/cases/{case.json()['id']}"
    due = {"due_date": (local_today() + dt.timedelta(days=2)).isoformat(), "reason": f"县局顺延，联系人{PHONE}"}
    moved = await proxy.put(f"{url}/due-date", json=due, headers={**admin(tokens), "If-Match": case.headers["ETag"]})
    assert moved.status_code == 200, moved.text
    ticked = await proxy.put(
        f"{url}/materials/1", json={"collected": "copy_taken"}, headers={**h, "If-Match": moved.headers["ETag"]}
    )
    assert ticked.status_code == 200, ticked.text
    second = await proxy.post(f"{BASE}/cases", json={**body, "item_code": "severe-disability-care-subsidy"}, headers=h)
    assert second.status_code == 201, second.text
    visit = {
        "case_ids": [case.json()["id"], second.json()["id"]],
        "planned_date": local_today().isoformat(),
        "window_start": "09:00",
        "window_end": "10:30",
        "notes": f"先电话{PHONE}确认老人在家",
    }
    planned = await proxy.post(f"{BASE}/visits", json=visit, headers=h)
    assert planned.status_code == 201, planned.text
    demand = await proxy.post(
        f"{BASE}/demands",
        json={"community": "chaoyang", "channel": "platform", "text": "居民来电咨询高龄津贴", "external_ref": "T-1"},
        headers=_callers(tokens)["platform"][0],
    )
    assert demand.status_code == 201, demand.text
    async with app.state.sessionmaker() as session:  # the platform's request became the second case
        await session.execute(
            update(ProxyCase)
            .where(col(ProxyCase.id) == uuid.UUID(second.json()["id"]))
            .values(demand_id=uuid.UUID(demand.json()["id"]))
        )
        await session.commit()
    return {"case": case.json()["id"], "visit": planned.json()["id"], "platform_case": second.json()["id"]}


async def _expected_page(
    proxy: httpx.AsyncClient, principal: Principal, body: dict[str, Any], fields: frozenset[str] | None
) -> bytes:
    app = app_of(proxy)
    async with app.state.sessionmaker() as session:
        ids = [uuid.UUID(item["id"]) for item in body["items"]]
        found = {
            c.id: c for c in (await session.execute(select(ProxyCase).where(col(ProxyCase.id).in_(ids)))).scalars()
        }
        models = await service.case_reads(session, [found[i] for i in ids], app.state.pii, principal)
    answer = sparse(Page[CaseRead](items=models, next_cursor=body["next_cursor"]), fields)
    if fields is not None:
        return bytes(answer.body)  # type: ignore[union-attr]
    return PAGE_MODEL.dump_json(PAGE_MODEL.validate_python(answer))


async def test_case_pages_and_cases_match_the_response_models_byte_for_byte(
    proxy: httpx.AsyncClient, tokens: Tokens
) -> None:
    made = await _demo(proxy, tokens)
    app = app_of(proxy)
    compared = 0
    for name, (headers, principal) in _callers(tokens).items():
        principal = _as_the_app_sees(principal)
        for query in QUERIES:
            params = dict(query)
            for _ in range(3):  # the first pages, through their cursors
                page = await proxy.get(f"{BASE}/cases", params=params, headers=headers)
                assert page.status_code == 200, page.text
                body = page.json()
                fields = frozenset({"id", *query["fields"].split(",")}) if "fields" in query else None
                assert page.content == await _expected_page(proxy, principal, body, fields), (name, query)
                compared += len(body["items"])
                for item in body["items"][:3]:  # one-case reads of what the page shows
                    one = await proxy.get(f"{BASE}/cases/{item['id']}", headers=headers)
                    async with app.state.sessionmaker() as session:
                        case = await service.get_case(session, principal, uuid.UUID(item["id"]))
                        model = (await service.case_reads(session, [case], app.state.pii, principal))[0]
                    assert one.content == model.model_dump_json().encode(), (name, item["id"])
                    assert one.headers["ETag"].removeprefix("W/") == service.case_etag(case)
                    assert one.headers["Content-Type"] == "application/json"
                if not body["next_cursor"]:
                    break
                params["cursor"] = body["next_cursor"]
    assert compared > 150
    own = await proxy.get(f"{BASE}/cases", headers=_callers(tokens)["platform"][0])
    assert [item["id"] for item in own.json()["items"]] == [made["platform_case"]]
    mine = await proxy.get(f"{BASE}/cases/{made['case']}", headers=worker(tokens))
    assert PHONE not in mine.text and "139****5678" in mine.text
    again = await proxy.get(
        f"{BASE}/cases/{made['case']}", headers={**worker(tokens), "If-None-Match": mine.headers["ETag"]}
    )
    assert again.status_code == 304
    assert (await proxy.get(f"{BASE}/cases/{made['case']}", headers=worker(tokens, "zhenhuai"))).status_code == 404


async def test_my_day_my_week_and_visits_match_the_response_models_byte_for_byte(
    proxy: httpx.AsyncClient, tokens: Tokens
) -> None:
    made = await _demo(proxy, tokens)
    app = app_of(proxy)
    today = local_today()
    days: list[dict[str, Any]] = [
        {},
        {"date": (today + dt.timedelta(days=1)).isoformat()},
        {"date": (today - dt.timedelta(days=3)).isoformat()},
        {"worker": "chaoyang.worker"},
        {"worker": "chaoyang.g5.worker", "date": today.isoformat()},
    ]
    day_model: TypeAdapter[DayPlan] = TypeAdapter(DayPlan)
    visits_seen = 0
    for name, (headers, principal) in _callers(tokens).items():
        principal = _as_the_app_sees(principal)
        for query in days:
            got = await proxy.get(f"{BASE}/my/day", params=query, headers=headers)
            assert got.status_code == 200, got.text
            async with app.state.sessionmaker() as session:
                day = dt.date.fromisoformat(query["date"]) if "date" in query else None
                plan = await visits.day_plan(session, principal, app.state.pii, day=day, worker=query.get("worker"))
            assert got.content == day_model.dump_json(plan), (name, query)
            week = await proxy.get(f"{BASE}/my/week", params=query, headers=headers)
            async with app.state.sessionmaker() as session:
                model = await visits.week_plan(session, principal, app.state.pii, day=day, worker=query.get("worker"))
            assert week.content == model.model_dump_json().encode(), (name, query)
            for v in got.json()["visits"]:
                visits_seen += 1
                one = await proxy.get(f"{BASE}/visits/{v['id']}", headers=headers)
                assert one.status_code == 200, one.text
                async with app.state.sessionmaker() as session:
                    visit = await visits.get_visit(session, principal, uuid.UUID(v["id"]))
                    model = (await visits.visit_reads(session, [visit], app.state.pii, principal))[0]
                assert one.content == model.model_dump_json().encode(), (name, v["id"])
                assert one.headers["ETag"].removeprefix("W/") == visits.visit_etag(visit)
    assert visits_seen >= 8
    mine = await proxy.get(f"{BASE}/my/day", headers=worker(tokens))
    assert PHONE not in mine.text and "139****5678" in mine.text and '"window_start":"09:00:00"' in mine.text
    platform = await proxy.get(
        f"{BASE}/my/day", params={"worker": "chaoyang.worker"}, headers=_callers(tokens)["platform"][0]
    )
    # Of the visit covering two cases, the platform sees the visit and only its own case.
    assert [[c["id"] for c in v["cases"]] for v in platform.json()["visits"]] == [[made["platform_case"]]]
    assert (await proxy.get(f"{BASE}/visits/{made['visit']}", headers=worker(tokens, "zhenhuai"))).status_code == 404


async def _expected_sync(proxy: httpx.AsyncClient, principal: Principal, body: dict[str, Any]) -> bytes:
    """The page built through the ORM and the response models (the path before the lean one)."""
    app = app_of(proxy)
    cipher = app.state.pii

    def ids(part: str) -> list[uuid.UUID]:
        return [uuid.UUID(item["id"]) for item in body[part]]

    async def by_id(model: Any, part: str) -> list[Any]:
        wanted = ids(part)
        found = {x.id: x for x in (await session.execute(select(model).where(col(model.id).in_(wanted)))).scalars()}
        return [found[i] for i in wanted]

    async with app.state.sessionmaker() as session:
        codes = [c["code"] for c in body["compounds"]]
        compounds = {
            c.code: c for c in (await session.execute(select(Compound).where(col(Compound.code).in_(codes)))).scalars()
        }
        households = await by_id(Household, "households")
        counted = select(col(Resident.household_id), func.count()).where(col(Resident.status) == "active")
        counted = counted.where(col(Resident.household_id).in_(ids("households"))).group_by(col(Resident.household_id))
        members = dict((await session.execute(counted)).all())
        page = SyncPage(
            cursor=body["cursor"],
            has_more=body["has_more"],
            scope=body["scope"],
            compounds=[CompoundRead.model_validate(compounds[code]) for code in codes],
            residents=await ledger.reads(session, await by_id(Resident, "residents"), cipher, principal),
            households=[ledger.household_read(h, members.get(h.id, 0)) for h in households],
            cases=await service.case_reads(session, await by_id(ProxyCase, "cases"), cipher, principal),
            visits=await visits.visit_reads(session, await by_id(Visit, "visits"), cipher, principal),
            demands=[demand_read(d, cipher) for d in await by_id(Demand, "demands")],
            tombstones=[Tombstone.model_validate(t) for t in body["tombstones"]],
        )
    return page.model_dump_json().encode()


async def test_sync_pages_match_the_response_models_byte_for_byte(proxy: httpx.AsyncClient, tokens: Tokens) -> None:
    """The feed's pages (Core rows, dicts written once) are the bytes the ORM entities and the
    response models made of the same records: every kind of record and tombstone, each scope,
    a first sync and a delta."""
    made = await _demo(proxy, tokens)
    h = worker(tokens)
    gone = await proxy.post(f"{BASE}/residents", json=resident_body(room="1203"), headers=admin(tokens))
    assert gone.status_code == 201, gone.text
    removal = {"status": "moved_away", "reason": f"随子女迁往南京，电话{PHONE}"}
    headers = {**admin(tokens), "If-Match": gone.headers["ETag"]}
    assert (await proxy.post(f"{BASE}/residents/{gone.json()['id']}/removal", json=removal, headers=headers)).is_success
    dropped = await proxy.post(
        f"{BASE}/visits", json={"case_ids": [made["case"]], "planned_date": local_today().isoformat()}, headers=h
    )
    assert dropped.status_code == 201, dropped.text
    url = f"{BASE}/visits/{dropped.json()['id']}"
    assert (await proxy.delete(url, headers={**h, "If-Match": dropped.headers["ETag"]})).status_code == 204
    callers = _callers(tokens)
    seen: dict[str, int] = {}
    for name, scope in (("worker", None), ("worker", "mine"), ("worker", "community"), ("admin", None)):
        headers, principal = callers[name][0], _as_the_app_sees(callers[name][1])
        params: dict[str, Any] = {"limit": 40} | ({"scope": scope} if scope else {})
        for _ in range(60):
            page = await proxy.get(f"{BASE}/sync", params=params, headers=headers)
            assert page.status_code == 200, page.text
            body = page.json()
            assert page.content == await _expected_sync(proxy, principal, body), (name, scope, params)
            for part in ("compounds", "residents", "households", "cases", "visits", "demands", "tombstones"):
                seen[part] = seen.get(part, 0) + len(body[part])
            params["since"] = body["cursor"]
            if not body["has_more"]:
                break
        if (name, scope) == ("worker", None):  # a delta: the case moved on, with its resident
            case = await proxy.get(f"{BASE}/cases/{made['case']}", headers=h)
            tick = {"collected": "copy_taken"}
            moved = await proxy.put(
                f"{BASE}/cases/{made['case']}/materials/2", json=tick, headers={**h, "If-Match": case.headers["ETag"]}
            )
            assert moved.status_code == 200, moved.text
            delta = await proxy.get(f"{BASE}/sync", params=params, headers=headers)
            assert [c["id"] for c in delta.json()["cases"]] == [made["case"]]
            assert delta.content == await _expected_sync(proxy, principal, delta.json())
    assert min(seen.values()) > 0 and seen["residents"] > 300, seen
    # Pages of a thousand: their residents masked in chunks of 250 (``sync._by_chunks``).
    params = {"limit": 1000}
    most = 0
    for _ in range(20):
        whole = await proxy.get(f"{BASE}/sync", params=params, headers=admin(tokens))
        assert whole.content == await _expected_sync(proxy, _as_the_app_sees(callers["admin"][1]), whole.json())
        most = max(most, len(whole.json()["residents"]))
        params["since"] = whole.json()["cursor"]
        if not whole.json()["has_more"]:
            break
    assert most > 250
    assert PHONE not in (await proxy.get(f"{BASE}/sync", headers=admin(tokens))).text


async def test_lean_items_have_the_models_fields_in_order(proxy: httpx.AsyncClient, tokens: Tokens) -> None:
    await _demo(proxy, tokens)
    app = app_of(proxy)
    principal = _as_the_app_sees(_callers(tokens)["admin"][1])
    async with app.state.sessionmaker() as session:
        rows = await service.list_cases(
            session, principal, CaseQuery(), overdue=False, due_soon=False, after=None, limit=5
        )
        items = await reads.case_items(session, rows, app.state.pii, principal)
        plan = await visits.day_plan_item(session, principal, app.state.pii, day=None, worker="chaoyang.worker")
    assert list(items[0]) == list(CaseRead.model_fields)
    assert list(items[0]["snapshot"]) == list(ItemSnapshot.model_fields)
    assert list(items[0]["materials"][0]) == list(MaterialRead.model_fields) == list(MATERIAL_READ)
    assert list(plan) == list(DayPlan.model_fields)
    assert list(plan["visits"][0]) == list(VisitRead.model_fields)
    assert "updated_by" not in rows[0]._fields


@pytest.mark.parametrize(
    ("fields", "model"),
    [
        (reads.SNAPSHOT_FIELDS, ItemSnapshot),
        (reads.MATERIAL_FIELDS, SnapshotMaterial),
        (reads.STEP_FIELDS, SnapshotStep),
    ],
)
def test_the_hand_built_snapshot_follows_the_models_fields_and_defaults(fields: Any, model: Any) -> None:
    assert [f[0] for f in fields] == list(model.model_fields)
    for name, default, _ in fields:
        info = model.model_fields[name]
        if info.is_required():
            assert default is reads._REQUIRED
        else:
            assert default == info.get_default(call_default_factory=True), name


@pytest.mark.parametrize(
    "raw",
    [
        {"code": "a", "name": "甲"},
        {"name": "甲", "code": "a", "extra": 1, "materials": [{"name": "身份证", "evidence": "photo", "x": 0}]},
        {"code": "a", "name": "甲", "version": "2", "statutory_days": "20"},  # strings for numbers: the model's way
        {"code": "a", "name": "甲", "version": True, "materials": [{"name": "证", "count": 2.0}]},
        {"code": "a", "name": "甲", "steps": [{"title": "受理", "detail": "窗口"}], "promised_days": None},
        {"code": "a", "name": "甲", "materials": [{"name": "证", "collectable_at_home": 1}]},
    ],
)
def test_a_snapshot_reads_as_the_model_writes_it(raw: dict[str, Any]) -> None:
    assert reads.snapshot_item(raw) == ItemSnapshot.model_validate(raw).model_dump(mode="json")


async def test_a_large_sync_page_is_masked_in_chunks_in_order() -> None:
    """The feed builds at most 250 records between two awaits (each chunk reads what it needs),
    so a page of a thousand never holds the event loop for all of them; the order is kept."""
    sizes: list[int] = []

    async def items(session: Any, rows: Any, cipher: Any, principal: Any) -> list[dict[str, Any]]:
        sizes.append(len(rows))
        return [{"n": n} for n in rows]

    built = await sync._by_chunks(items, None, list(range(620)), None, None)  # type: ignore[arg-type]
    assert sizes == [250, 250, 120]
    assert [item["n"] for item in built] == list(range(620))
    assert await sync._by_chunks(items, None, [], None, None) == [] and sizes == [250, 250, 120]  # type: ignore[arg-type]
