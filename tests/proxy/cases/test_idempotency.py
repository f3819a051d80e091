"""Idempotency-Key on the proxy's POSTs: replays, mismatches, concurrent offline queues."""

from __future__ import annotations

import asyncio
import uuid

import httpx
import pytest
from sqlalchemy import func, select

from doorstep_proxy.cases.models import ProxyCase, Visit

from ...support import Tokens
from ..helpers import app_of, worker
from .helpers import BASE, grid_worker, new_case, new_resident

pytestmark = pytest.mark.dates


async def _count(client: httpx.AsyncClient, model: type) -> int:
    async with app_of(client).state.sessionmaker() as session:
        return int((await session.execute(select(func.count()).select_from(model))).scalar_one())


async def test_the_same_key_and_body_replays_the_first_response(cases: httpx.AsyncClient, tokens: Tokens) -> None:
    h = worker(tokens)
    r = await new_resident(cases, h)
    body = {"resident_id": r["id"], "item_code": "elderly-allowance", "channel": "window"}
    key = {"Idempotency-Key": str(uuid.uuid4())}
    first = await cases.post(f"{BASE}/cases", json=body, headers={**h, **key})
    again = await cases.post(f"{BASE}/cases", json=body, headers={**h, **key})
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again.headers["idempotent-replayed"] == "true"
    assert again.headers["etag"] == first.headers["etag"] and "idempotent-replayed" not in first.headers
    assert await _count(cases, ProxyCase) == 1
    changed = await cases.post(f"{BASE}/cases", json={**body, "channel": "doorstep"}, headers={**h, **key})
    assert changed.status_code == 422 and changed.json()["code"] == "idempotency_key_reused"
    elsewhere = await cases.post(f"{BASE}/cases", json=body, headers={**grid_worker(tokens), **key})
    assert elsewhere.status_code == 409  # another caller's key space: runs, and meets the open case


async def test_a_refused_request_is_replayed_as_refused(cases: httpx.AsyncClient, tokens: Tokens) -> None:
    h = worker(tokens)
    r = await new_resident(cases, h)
    c = await new_case(cases, h, r["id"])
    key = {"Idempotency-Key": "move-1"}
    url = f"{BASE}/cases/{c['id']}/transitions"
    first = await cases.post(url, json={"to": "filed"}, headers={**h, **key})
    assert first.status_code == 409
    again = await cases.post(url, json={"to": "filed"}, headers={**h, **key})
    assert again.status_code == 409 and again.headers["idempotent-replayed"] == "true"
    bad_key = await cases.post(url, json={"to": "scheduled"}, headers={**h, "Idempotency-Key": "bad key"})
    assert bad_key.status_code == 422


async def test_a_concurrent_offline_queue_creates_each_record_once(cases: httpx.AsyncClient, tokens: Tokens) -> None:
    h = worker(tokens)
    r = await new_resident(cases, h)
    case_id = str(uuid.uuid4())
    body = {"id": case_id, "resident_id": r["id"], "item_code": "elderly-allowance", "channel": "doorstep"}
    key = {"Idempotency-Key": f"case-{case_id}"}
    responses = await asyncio.gather(*(cases.post(f"{BASE}/cases", json=body, headers={**h, **key}) for _ in range(6)))
    assert sorted(x.status_code for x in responses) == [201] * 6, [x.text for x in responses]
    assert sum(1 for x in responses if x.headers.get("idempotent-replayed") == "true") == 5
    assert {x.json()["id"] for x in responses} == {case_id}
    assert await _count(cases, ProxyCase) == 1


async def test_two_phones_replaying_the_same_queue_create_each_record_once(
    cases: httpx.AsyncClient, tokens: Tokens
) -> None:
    r = await new_resident(cases, worker(tokens))
    phones = [worker(tokens), grid_worker(tokens, 7)]
    case_id, visit_id = str(uuid.uuid4()), str(uuid.uuid4())
    case_body = {"id": case_id, "resident_id": r["id"], "item_code": "elderly-allowance", "channel": "doorstep"}
    created = await asyncio.gather(
        *(cases.post(f"{BASE}/cases", json=case_body, headers={**p, "Idempotency-Key": "q-1"}) for p in phones * 2)
    )
    assert {x.status_code for x in created} <= {200, 201} and {x.json()["id"] for x in created} == {case_id}
    visit_body = {"id": visit_id, "case_ids": [case_id], "planned_date": "2026-12-01"}
    planned = await asyncio.gather(
        *(cases.post(f"{BASE}/visits", json=visit_body, headers={**p, "Idempotency-Key": "q-2"}) for p in phones * 2)
    )
    assert {x.status_code for x in planned} <= {200, 201}, [x.text for x in planned]
    assert await _count(cases, ProxyCase) == 1 and await _count(cases, Visit) == 1
