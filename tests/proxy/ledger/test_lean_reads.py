"""The lean resident reads (Core rows, one benefits query per page, dicts written as JSON once)
answer exactly the bytes the response models answered: the same pages, cursors, filters,
``?fields=`` trims, masking and redaction, for every kind of caller, over the demo data."""

from __future__ import annotations

import dataclasses
import uuid
from typing import Any

import httpx
from pydantic import TypeAdapter
from sqlalchemy import func, select
from sqlmodel import col

from doorstep_proxy.ledger import service
from doorstep_proxy.ledger.models import Household, Resident
from doorstep_proxy.ledger.schemas import HouseholdRead, ResidentRead
from doorstep_proxy.seed import seed
from doorstep_shared.auth.permissions import permissions_for_roles
from doorstep_shared.auth.tokens import Principal
from doorstep_shared.http.pagination import Page
from doorstep_shared.http.sparse import sparse, sparse_page

from ...support import Tokens
from ..helpers import BASE, admin, app_of, auditor, resident_body, with_compounds, worker


def _as_the_app_sees(principal: Principal) -> Principal:
    return dataclasses.replace(principal, permissions=permissions_for_roles(principal.roles))


PAGE_MODEL: TypeAdapter[Any] = TypeAdapter(sparse_page(ResidentRead))

QUERIES: list[dict[str, Any]] = [
    {"limit": 20},
    {"compound": "binjiang", "limit": 50},
    {"group": ["elderly_80", "living_alone"], "limit": 30},
    {"without_benefit": "elderly-allowance", "group": "elderly_80"},
    {"status": ["moved_away", "active"], "q": "江", "limit": 10},
    {"disability_type": "physical", "limit": 40},
    {"fields": "name,phone_masked,benefits,groups,removed_reason", "limit": 25},
    {"fields": "id", "limit": 5},
]


async def test_resident_pages_match_the_response_models_byte_for_byte(proxy: httpx.AsyncClient, tokens: Tokens) -> None:
    app = app_of(proxy)
    async with app.state.sessionmaker() as session:
        await seed(session, app.state.pii)
        await session.commit()
    # A removal reason with a phone in it: redacted on the way out, by both paths.
    r = await proxy.post(f"{BASE}/residents", json=resident_body(), headers=admin(tokens))
    assert r.status_code == 201, r.text
    removed = await proxy.post(
        f"{BASE}/residents/{r.json()['id']}/removal",
        json={"status": "moved_away", "reason": "随子女迁往南京，电话13912345678"},
        headers={**admin(tokens), "If-Match": r.headers["ETag"]},
    )
    assert removed.status_code == 200, removed.text
    callers = {
        "worker": (worker(tokens), tokens.principal("social_worker", grid="chaoyang-g6", subject="chaoyang.worker")),
        "admin": (admin(tokens), tokens.principal("community_admin", subject="chaoyang.admin")),
        "auditor": (auditor(tokens), tokens.principal("auditor", community=None, subject="county.auditor")),
    }
    compared = 0
    for headers, principal in callers.values():
        for query in QUERIES:
            params = dict(query)
            for _ in range(3):  # the first pages, through their cursors
                page = await proxy.get(f"{BASE}/residents", params=params, headers=headers)
                assert page.status_code == 200, page.text
                body = page.json()
                app = app_of(proxy)
                async with app.state.sessionmaker() as session:
                    ids = [uuid.UUID(item["id"]) for item in body["items"]]
                    rows = await session.execute(select(Resident).where(Resident.id.in_(ids)))
                    found = {x.id: x for x in rows.scalars()}
                    models = await service.reads(
                        session, [found[i] for i in ids], app.state.pii, _as_the_app_sees(principal)
                    )
                before = Page[ResidentRead](items=models, next_cursor=body["next_cursor"])
                fields = frozenset({"id", *query["fields"].split(",")}) if "fields" in query else None
                answer = sparse(before, fields)
                expected = (
                    answer.body if fields is not None else PAGE_MODEL.dump_json(PAGE_MODEL.validate_python(answer))
                )
                assert page.content == expected, query
                compared += len(ids)
                if not body["next_cursor"]:
                    break
                params["cursor"] = body["next_cursor"]
    assert compared > 300
    assert "139****5678" in (await proxy.get(f"{BASE}/residents/{r.json()['id']}", headers=admin(tokens))).text


async def test_one_resident_read_matches_the_response_model_and_keeps_its_etag(
    proxy: httpx.AsyncClient, tokens: Tokens
) -> None:
    await with_compounds(proxy)
    body = resident_body(
        benefits=[{"item_code": "elderly-allowance", "since": "2024-04-01"}, {"item_code": "dibao"}],
        disability_type="physical",
        disability_grade=2,
        disability_certificate_no="34052319690914123X21",
    )
    created = await proxy.post(f"{BASE}/residents", json=body, headers=admin(tokens))
    assert created.status_code == 201, created.text
    url = f"{BASE}/residents/{created.json()['id']}"
    read = await proxy.get(url, headers=worker(tokens))
    assert read.status_code == 200
    assert read.headers["ETag"] == created.headers["ETag"]
    assert read.headers["Cache-Control"] == "private, no-cache"
    assert read.headers["Content-Type"] == "application/json"
    # The write's answer is still built through the model: the read is the same bytes.
    assert read.content == ResidentRead.model_validate(created.json()).model_dump_json().encode()
    assert [b["item_code"] for b in read.json()["benefits"]] == ["dibao", "elderly-allowance"]
    again = await proxy.get(url, headers={**worker(tokens), "If-None-Match": read.headers["ETag"]})
    assert again.status_code == 304
    assert again.headers["ETag"] == read.headers["ETag"]
    assert (await proxy.get(url, headers=worker(tokens, "xinhua"))).status_code == 404


async def test_a_resident_item_has_the_read_models_fields_in_order_and_no_more_columns(
    proxy: httpx.AsyncClient, tokens: Tokens
) -> None:
    await with_compounds(proxy)
    created = await proxy.post(f"{BASE}/residents", json=resident_body(), headers=admin(tokens))
    assert created.status_code == 201, created.text
    principal = _as_the_app_sees(tokens.principal("community_admin", subject="chaoyang.admin"))
    app = app_of(proxy)
    async with app.state.sessionmaker() as session:
        row = await service.resident_row(session, principal, uuid.UUID(created.json()["id"]))
        item = (await service.resident_items(session, [row], app.state.pii, principal))[0]
    assert list(item) == list(ResidentRead.model_fields)
    # Only what the read shows and the ciphertexts it masks: no lookup hashes or key ids.
    assert not set(row._fields) & {"id_number_hash", "phone_hash", "pii_kid", "created_by", "updated_by", "removed_by"}


HOUSEHOLD_QUERIES: list[dict[str, Any]] = [
    {"limit": 40},
    {"compound": "binjiang", "limit": 25},
    {"grid": "chaoyang-g6", "limit": 7},
    {"compound": "binjiang", "building": "6", "limit": 3},
    {"building": "1"},
]


async def test_household_pages_match_the_response_models_byte_for_byte(
    proxy: httpx.AsyncClient, tokens: Tokens
) -> None:
    """The lean household list (one statement, members counted in the row, dicts written once)
    answers the bytes ``Page[HouseholdRead]`` wrote of the ORM entities, page after page through
    its cursors, every household of the filter once, for every kind of caller."""
    app = app_of(proxy)
    async with app.state.sessionmaker() as session:
        await seed(session, app.state.pii)
        await session.commit()
    # A household with one member moved away: counted without them.
    r = await proxy.post(f"{BASE}/residents", json=resident_body(room="1701"), headers=admin(tokens))
    assert r.status_code == 201, r.text
    gone = {"status": "moved_away", "reason": "迁出"}
    moved = await proxy.post(
        f"{BASE}/residents/{r.json()['id']}/removal",
        json=gone,
        headers={**admin(tokens), "If-Match": r.headers["ETag"]},
    )
    assert moved.status_code == 200, moved.text
    page_model: TypeAdapter[Page[HouseholdRead]] = TypeAdapter(Page[HouseholdRead])
    compared = 0
    for headers in (worker(tokens), admin(tokens), auditor(tokens), worker(tokens, "zhenhuai")):
        for query in HOUSEHOLD_QUERIES:
            params, listed = dict(query), []
            for _ in range(200):
                page = await proxy.get(f"{BASE}/households", params=params, headers=headers)
                assert page.status_code == 200, page.text
                body = page.json()
                ids = [uuid.UUID(item["id"]) for item in body["items"]]
                async with app.state.sessionmaker() as session:
                    found = {
                        h.id: h
                        for h in (await session.execute(select(Household).where(col(Household.id).in_(ids)))).scalars()
                    }
                    counted = (
                        select(col(Resident.household_id), func.count())
                        .where(col(Resident.status) == "active", col(Resident.household_id).in_(ids))
                        .group_by(col(Resident.household_id))
                    )
                    members = dict((await session.execute(counted)).all())
                expected = Page[HouseholdRead](
                    items=[service.household_read(found[i], members.get(i, 0)) for i in ids],
                    next_cursor=body["next_cursor"],
                )
                assert page.content == page_model.dump_json(expected), query
                listed += ids
                if not body["next_cursor"]:
                    break
                params["cursor"] = body["next_cursor"]
            compared += len(listed)
            assert len(set(listed)) == len(listed), query  # no household twice across the pages
    assert compared > 500
    mine = await proxy.get(
        f"{BASE}/households", params={"compound": "binjiang", "building": "6", "limit": 200}, headers=worker(tokens)
    )
    members = {h["id"]: h["members"] for h in mine.json()["items"]}
    assert members[r.json()["household_id"]] == 0  # the moved-away resident is not counted
