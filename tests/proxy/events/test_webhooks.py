"""Proxy webhooks: demand and case events from real changes, signed, in order, per community."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from standardwebhooks import Webhook

from doorstep_proxy.db import IDEMPOTENCY
from doorstep_proxy.events.webhooks import hooks

from ...shared.test_webhooks import Receiver
from ...support import Tokens
from ..cases.conftest import catalogue
from ..helpers import BASE, app_of, create, with_compounds, worker

HOOKS = f"{BASE}/webhooks"
ALL_EVENTS = ["demand.created", "demand.answered", "case.status_changed", "case.completed"]


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    r = Receiver()
    await r.start()
    try:
        yield r
    finally:
        await r.stop()


@pytest.fixture
async def ready(proxy: httpx.AsyncClient) -> httpx.AsyncClient:
    await with_compounds(proxy)
    app_of(proxy).state.catalog.prime(catalogue())
    return proxy


def platform(
    tokens: Tokens,
    subject: str = "demo.platform",
    communities: tuple[str, ...] = ("chaoyang",),
    scopes: tuple[str, ...] = ("cases:read", "demands:write"),
) -> dict[str, str]:
    return tokens.headers(None, kind="client", subject=subject, scopes=scopes, communities=communities)


async def subscribe(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    url: str,
    events: list[str] | None = None,
    extra: dict[str, str] | None = None,
) -> dict[str, Any]:
    r = await client.post(
        f"{HOOKS}/subscriptions",
        headers={**headers, **(extra or {})},
        json={"url": url, "event_types": events or ALL_EVENTS},
    )
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    return body


async def deliver(app: FastAPI) -> int:
    sent: int = await app.state.webhook_dispatcher.run_until_idle()
    return sent


def verified(receiver: Receiver, secret: str) -> list[dict[str, Any]]:
    return [Webhook(secret).verify(body, headers) for headers, body in receiver.requests]


async def _demand(client: httpx.AsyncClient, tokens: Tokens, community: str = "chaoyang") -> dict[str, Any]:
    r = await client.post(
        f"{BASE}/demands",
        json={
            "channel": "hotline",
            "kind": "request",
            "item_code": "elderly-allowance",
            "text": "老人想申请高龄补贴，电话13812345678",
            "contact_name": "韩素梅",
            "contact_phone": "13812345678",
            "external_ref": "12345-2026-0042",
            "community": community,
        },
        headers=platform(tokens, communities=(community,)),
    )
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    return body


async def _approved_case(client: httpx.AsyncClient, tokens: Tokens) -> dict[str, Any]:
    h = worker(tokens)
    resident = await create(client, h)
    r = await client.post(
        f"{BASE}/cases",
        json={"resident_id": resident["id"], "item_code": "elderly-allowance", "channel": "window"},
        headers=h,
    )
    assert r.status_code == 201, r.text
    case: dict[str, Any] = r.json()
    for m in case["materials"]:
        r = await client.put(
            f"{BASE}/cases/{case['id']}/materials/{m['position']}", json={"collected": "copy_taken"}, headers=h
        )
        assert r.status_code == 200, r.text
    for to, extra in (("materials_complete", {}), ("filed", {"department_ref": "HX-MZ-2026-007"}), ("approved", {})):
        r = await client.post(f"{BASE}/cases/{case['id']}/transitions", json={"to": to, **extra}, headers=h)
        assert r.status_code == 200, r.text
    return case


async def test_demand_and_case_events_reach_the_subscriber_signed_in_order_without_personal_data(
    ready: httpx.AsyncClient, proxy_app: FastAPI, tokens: Tokens, receiver: Receiver
) -> None:
    r = await ready.get(f"{HOOKS}/event-types", headers=platform(tokens))
    assert r.status_code == 200 and [e["type"] for e in r.json()] == ALL_EVENTS
    sub = await subscribe(ready, platform(tokens), receiver.url)
    assert sub["secret"].startswith("whsec_") and sub["communities"] == ["chaoyang"]
    demand = await _demand(ready, tokens)
    r = await ready.post(
        f"{BASE}/demands/{demand['id']}/answer", json={"answer": "已转社区代办"}, headers=worker(tokens)
    )
    assert r.status_code == 200, r.text
    case = await _approved_case(ready, tokens)

    assert await deliver(proxy_app) == 6
    events = verified(receiver, sub["secret"])
    # in order per resource (resources are independent of each other)
    by_resource: dict[str, list[dict[str, Any]]] = {}
    for e in events:
        by_resource.setdefault(e["resource"], []).append(e)
    assert set(by_resource) == {f"demand:{demand['id']}", f"case:{case['id']}"}
    demand_events = by_resource[f"demand:{demand['id']}"]
    case_events = by_resource[f"case:{case['id']}"]
    assert [e["type"] for e in demand_events] == ["demand.created", "demand.answered"]
    assert [e["type"] for e in case_events] == ["case.status_changed"] * 3 + ["case.completed"]
    assert all(e["service"] == "proxy" and e["community"] == "chaoyang" for e in events)
    created, answered = (e["data"] for e in demand_events)
    *moves, completed = (e["data"] for e in case_events)
    assert created["demand_id"] == demand["id"] and created["status"] == "open" and created["channel"] == "hotline"
    assert created["external_ref"] == "12345-2026-0042" and created["source_client"] == "demo.platform"
    assert answered["status"] == "answered" and answered["answered_at"]
    assert [(m["from"], m["to"]) for m in moves] == [
        ("accepted", "materials_complete"),
        ("materials_complete", "filed"),
        ("filed", "approved"),
    ]
    assert completed["decision"] == "approved" and completed["item_code"] == "elderly-allowance"
    assert completed["case_id"] == case["id"] and completed["decided_at"]
    raw = b" ".join(body for _, body in receiver.requests).decode()
    for private in ("13812345678", "5678", "韩素梅", "高龄补贴，电话", "已转社区代办", "江明远"):
        assert private not in raw
    assert [h["webhook-id"] for h, _ in receiver.requests] == [e["id"] for e in events]
    r = await ready.get(f"{HOOKS}/subscriptions/{sub['id']}/deliveries", headers=platform(tokens))
    assert r.status_code == 200
    assert all(d["status"] == "delivered" for d in r.json()["items"])


async def test_a_demand_logged_with_its_answer_publishes_created_then_answered(
    ready: httpx.AsyncClient, proxy_app: FastAPI, tokens: Tokens, receiver: Receiver
) -> None:
    sub = await subscribe(ready, platform(tokens, scopes=("demands:read",)), receiver.url, ["demand.answered"])
    r = await ready.post(
        f"{BASE}/demands",
        json={"channel": "window", "kind": "consultation", "text": "咨询", "answer": "可以办理"},
        headers=worker(tokens),
    )
    assert r.status_code == 201, r.text
    await deliver(proxy_app)
    events = verified(receiver, sub["secret"])
    assert [e["type"] for e in events] == ["demand.answered"]  # only the subscribed type
    assert events[0]["data"]["demand_id"] == r.json()["id"]


async def test_subscribers_get_only_their_communities_events(
    ready: httpx.AsyncClient, proxy_app: FastAPI, tokens: Tokens, receiver: Receiver
) -> None:
    other = Receiver()
    await other.start()
    try:
        zhenhuai = await subscribe(ready, platform(tokens, "zhenhuai.platform", ("zhenhuai",)), other.url)
        county = await subscribe(ready, platform(tokens, "county.platform", ()), receiver.url)
        assert zhenhuai["communities"] == ["zhenhuai"] and county["communities"] is None
        chaoyang = await _demand(ready, tokens, "chaoyang")
        zh = await _demand(ready, tokens, "zhenhuai")
        await deliver(proxy_app)
        assert [(e["type"], e["data"]["demand_id"]) for e in verified(other, zhenhuai["secret"])] == [
            ("demand.created", zh["id"])
        ]
        assert [e["data"]["demand_id"] for e in verified(receiver, county["secret"])] == [chaoyang["id"], zh["id"]]
    finally:
        await other.stop()


async def test_subscribing_needs_a_read_scope_and_only_cases_read_covers_case_events(
    ready: httpx.AsyncClient, tokens: Tokens, receiver: Receiver
) -> None:
    writer = platform(tokens, scopes=("demands:write",))
    r = await ready.post(
        f"{HOOKS}/subscriptions", headers=writer, json={"url": receiver.url, "event_types": ALL_EVENTS}
    )
    assert r.status_code == 403
    reader = platform(tokens, scopes=("demands:read",))
    r = await ready.post(
        f"{HOOKS}/subscriptions", headers=reader, json={"url": receiver.url, "event_types": ["case.completed"]}
    )
    assert r.status_code == 403 and r.json()["code"] == "event_not_permitted"
    staff = await ready.get(f"{HOOKS}/subscriptions", headers=worker(tokens))
    assert staff.status_code == 403


async def test_subscription_secrets_are_never_stored_by_the_idempotency_middleware(
    ready: httpx.AsyncClient, proxy_app: FastAPI, tokens: Tokens, receiver: Receiver
) -> None:
    sub = await subscribe(ready, platform(tokens), receiver.url, extra={"Idempotency-Key": "sub-0001"})
    again = await subscribe(ready, platform(tokens), receiver.url, extra={"Idempotency-Key": "sub-0001"})
    assert again["id"] != sub["id"]  # not replayed from a stored answer: it ran again
    r = await ready.post(
        f"{HOOKS}/subscriptions/{sub['id']}/rotate-secret",
        headers={**platform(tokens), "Idempotency-Key": "rot-0001"},
        json={"overlap_hours": 1},
    )
    assert r.status_code == 200, r.text
    async with proxy_app.state.sessionmaker() as session:
        stored = (await session.execute(select(func.count()).select_from(IDEMPOTENCY))).scalar_one()
        subs = (await session.execute(select(func.count()).select_from(hooks.tables.subscriptions))).scalar_one()
    assert stored == 0 and subs == 2
