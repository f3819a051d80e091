"""The lean lead reads (Core rows, dicts written as JSON once: ``discovery/reads.py``) answer
exactly the bytes the response model answers (``service.lead_reads``): the same pages, cursors,
filters, ``?fields=`` trims, reasons, "last confirmed" markers, masking and redaction, for every
kind of caller, over the demo data after a discovery run. (The list still re-evaluates residents
whose facts changed before it answers: ``test_runs.py``.)"""

from __future__ import annotations

import dataclasses
from typing import Any

import httpx
from pydantic import TypeAdapter
from sqlalchemy import select
from sqlmodel import col

from doorstep_proxy.discovery import reads
from doorstep_proxy.discovery import service as svc
from doorstep_proxy.discovery.models import DiscoveryLead
from doorstep_proxy.discovery.schemas import LeadRead
from doorstep_proxy.seed import seed
from doorstep_shared.auth.permissions import permissions_for_roles
from doorstep_shared.auth.tokens import Principal
from doorstep_shared.http import etag_of
from doorstep_shared.http.pagination import Page
from doorstep_shared.http.sparse import sparse, sparse_page

from ...support import Tokens
from ..helpers import admin, app_of, auditor, worker
from .catalog import seed_snapshot
from .helpers import BASE, county_admin, prime, run

PAGE_MODEL: TypeAdapter[Any] = TypeAdapter(sparse_page(LeadRead))
PHONE = "13912345678"

QUERIES: list[dict[str, Any]] = [
    {"limit": 20},
    {"verdict": "all", "limit": 30},
    {"verdict": "unknown", "missing": "hukou_local", "limit": 10},
    {"worker": "me", "limit": 15},
    {"grid": "chaoyang-g6", "item": "severe-disability-care-subsidy"},
    {"status": ["declined", "contacted"], "verdict": "all"},
    {"fields": "resident_name,address,materials,reasons,declined_reason,last_confirmed_at", "limit": 12},
    {"fields": "id", "limit": 5},
]


def _as_the_app_sees(principal: Principal) -> Principal:
    return dataclasses.replace(principal, permissions=permissions_for_roles(principal.roles))


def _callers(tokens: Tokens) -> dict[str, tuple[dict[str, str], Principal]]:
    return {
        "worker": (
            worker(tokens),
            tokens.principal("social_worker", grid="chaoyang-g6", subject="chaoyang.worker"),
        ),
        "admin": (admin(tokens), tokens.principal("community_admin", subject="chaoyang.admin")),
        "auditor": (auditor(tokens), tokens.principal("auditor", community=None, subject="county.auditor")),
    }


async def _expected(
    proxy: httpx.AsyncClient, principal: Principal, body: dict[str, Any], fields: frozenset[str] | None
) -> bytes:
    app = app_of(proxy)
    async with app.state.sessionmaker() as session:
        ids = [item["id"] for item in body["items"]]
        rows = await session.execute(select(DiscoveryLead).where(col(DiscoveryLead.id).in_(ids)))
        found = {lead.id: lead for lead in rows.scalars()}
        books = await svc.books_of(app.state.catalog)
        models = await svc.lead_reads(session, principal, app.state.pii, [found[i] for i in ids], books)
    answer = sparse(Page[LeadRead](items=models, next_cursor=body["next_cursor"]), fields)
    if fields is not None:
        return bytes(answer.body)  # type: ignore[union-attr]
    return PAGE_MODEL.dump_json(PAGE_MODEL.validate_python(answer))


async def test_lead_pages_and_leads_match_the_response_model_byte_for_byte(
    proxy: httpx.AsyncClient, tokens: Tokens
) -> None:
    app = prime(proxy, seed_snapshot())
    async with app.state.sessionmaker() as session:
        await seed(session, app.state.pii)
        await session.commit()
    await run(proxy, county_admin(tokens))
    first = (await proxy.get(f"{BASE}/leads", params={"limit": 3}, headers=worker(tokens))).json()["items"]
    declined = await proxy.post(
        f"{BASE}/leads/{first[0]['id']}/declined", json={"reason": f"暂不需要，家属电话{PHONE}"}, headers=worker(tokens)
    )
    assert declined.status_code == 200, declined.text
    contacted = await proxy.post(f"{BASE}/leads/{first[1]['id']}/contacted", json={}, headers=worker(tokens))
    assert contacted.status_code == 200, contacted.text
    compared = 0
    for name, (headers, principal) in _callers(tokens).items():
        principal = _as_the_app_sees(principal)
        for query in QUERIES:
            params = dict(query)
            for _ in range(3):  # the first pages, through their cursors
                page = await proxy.get(f"{BASE}/leads", params=params, headers=headers)
                assert page.status_code == 200, page.text
                body = page.json()
                fields = frozenset({"id", *query["fields"].split(",")}) if "fields" in query else None
                assert page.content == await _expected(proxy, principal, body, fields), (name, query)
                compared += len(body["items"])
                for item in body["items"][:2]:
                    one = await proxy.get(f"{BASE}/leads/{item['id']}", headers=headers)
                    async with app.state.sessionmaker() as session:
                        model = await svc.get_lead(session, principal, app.state.pii, app.state.catalog, item["id"])
                    assert one.content == model.model_dump_json().encode(), (name, item["id"])
                    assert one.headers["ETag"].removeprefix("W/") == etag_of("lead", model.id, model.version)
                    assert one.headers["Content-Type"] == "application/json"
                if not body["next_cursor"]:
                    break
                params["cursor"] = body["next_cursor"]
    assert compared > 150
    one = await proxy.get(f"{BASE}/leads/{first[0]['id']}", headers=worker(tokens))
    assert PHONE not in one.text and "139****5678" in one.text
    assert (await proxy.get(f"{BASE}/leads/{first[0]['id']}", headers=worker(tokens, "zhenhuai"))).status_code == 404


async def test_a_lead_item_has_the_read_models_fields_in_order(proxy: httpx.AsyncClient, tokens: Tokens) -> None:
    app = prime(proxy, seed_snapshot())
    async with app.state.sessionmaker() as session:
        await seed(session, app.state.pii)
        await session.commit()
    await run(proxy, county_admin(tokens))
    principal = _as_the_app_sees(_callers(tokens)["admin"][1])
    async with app.state.sessionmaker() as session:
        mine = select(col(DiscoveryLead.id)).where(col(DiscoveryLead.community) == "chaoyang")
        lead = (await session.execute(mine.limit(1))).scalar_one()
        item = await svc.get_lead_item(session, principal, app.state.pii, app.state.catalog, lead)
    assert list(item) == list(LeadRead.model_fields)
    assert list(item["address"]) == ["compound", "building", "unit", "room"]
    assert reads.reason_words(["年满80周岁"], "eligible", "高龄补贴") == "年满80周岁，未领取高龄补贴"
