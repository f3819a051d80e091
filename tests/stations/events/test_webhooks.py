"""Stations webhooks: subscriptions through the API, events from real changes, signed deliveries."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from standardwebhooks import Webhook

from doorstep_shared.clock import utcnow
from doorstep_stations.bookings import service as bookings

from ...shared.test_webhooks import Receiver
from ...support import Tokens
from ..helpers import county, keeper, make_session, phone, seed_demo, station_with_class, worker

API = "/api/v1/stations"
HOOKS = f"{API}/webhooks"
ALL_EVENTS = ["ticket.ready", "ticket.collected", "booking.cancelled", "booking.promoted", "session.cancelled"]


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    r = Receiver()
    await r.start()
    try:
        yield r
    finally:
        await r.stop()


def platform(
    tokens: Tokens,
    subject: str = "demo.platform",
    communities: tuple[str, ...] = ("chaoyang",),
    scopes: tuple[str, ...] = ("stations:read", "catalog:read"),
) -> dict[str, str]:
    return tokens.headers(None, kind="client", subject=subject, scopes=scopes, communities=communities)


async def subscribe(
    client: httpx.AsyncClient, headers: dict[str, str], url: str, events: list[str] | None = None
) -> dict[str, Any]:
    r = await client.post(
        f"{HOOKS}/subscriptions", headers=headers, json={"url": url, "event_types": events or ALL_EVENTS}
    )
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    return body


async def deliver(app: FastAPI, now: dt.datetime | None = None) -> int:
    sent: int = await app.state.webhook_dispatcher.run_until_idle(now)
    return sent


def verified(receiver: Receiver, secret: str) -> list[dict[str, Any]]:
    """Every accepted request, verified with the library's own verifier."""
    return [Webhook(secret).verify(body, headers) for headers, body in receiver.requests]


async def _ticket_ready(client: httpx.AsyncClient, tokens: Tokens) -> dict[str, Any]:
    h = keeper(tokens)
    r = await client.post(
        f"{API}/stations/shuxiang/tickets",
        headers=h,
        json={"name": "王秀兰", "phone": "13912345678", "item": "蓝色裤子", "request": "裤脚改短3厘米"},
    )
    assert r.status_code == 201, r.text
    ticket: dict[str, Any] = r.json()
    r = await client.post(f"{API}/tickets/{ticket['id']}/status", headers=h, json={"status": "ready"})
    assert r.status_code == 200, r.text
    return ticket


async def test_ticket_ready_and_collected_reach_the_subscriber_signed_in_order_without_personal_data(
    stations: httpx.AsyncClient, stations_app: FastAPI, tokens: Tokens, receiver: Receiver
) -> None:
    await seed_demo(stations_app)
    sub = await subscribe(stations, platform(tokens), receiver.url)
    assert sub["secret"].startswith("whsec_") and sub["communities"] == ["chaoyang"]
    ticket = await _ticket_ready(stations, tokens)
    r = await stations.post(
        f"{API}/tickets/{ticket['id']}/collect", headers=keeper(tokens), json={"claim_code": ticket["claim_code"]}
    )
    assert r.status_code == 200, r.text
    assert await deliver(stations_app) == 2
    events = verified(receiver, sub["secret"])
    assert [e["type"] for e in events] == ["ticket.ready", "ticket.collected"]
    ready = events[0]
    assert ready["service"] == "stations" and ready["resource"] == f"ticket:{ticket['id']}"
    assert ready["data"]["station"] == "shuxiang" and ready["data"]["number"] == ticket["number"]
    assert ready["data"]["status"] == "ready" and ready["community"] == "chaoyang"
    raw = b" ".join(body for _, body in receiver.requests).decode()
    for private in ("13912345678", "5678", "王秀兰", ticket["claim_code"]):
        assert private not in raw
    assert [h["webhook-id"] for h, _ in receiver.requests] == [e["id"] for e in events]
    # the delivery log, newest first
    r = await stations.get(f"{HOOKS}/subscriptions/{sub['id']}/deliveries", headers=platform(tokens))
    log = r.json()["items"]
    assert [d["event_type"] for d in log] == ["ticket.collected", "ticket.ready"]
    assert all(d["status"] == "delivered" and d["response_code"] == 204 and d["attempts"] == 1 for d in log)


async def test_subscribers_get_only_their_communities_events(
    stations: httpx.AsyncClient, stations_app: FastAPI, tokens: Tokens, receiver: Receiver
) -> None:
    await seed_demo(stations_app)
    other = Receiver()
    await other.start()
    try:
        await subscribe(stations, platform(tokens, "zhenhuai.platform", ("zhenhuai",)), other.url)
        await subscribe(stations, platform(tokens, "county.platform", ()), receiver.url)  # all communities
        await _ticket_ready(stations, tokens)  # a chaoyang station
        await deliver(stations_app)
        assert other.requests == []
        assert [p["type"] for p in receiver.accepted] == ["ticket.ready"]
    finally:
        await other.stop()


async def test_booking_cancellation_promotion_and_session_cancellation_are_published(
    stations: httpx.AsyncClient, stations_app: FastAPI, tokens: Tokens, receiver: Receiver
) -> None:
    await station_with_class(stations, tokens)
    sub = await subscribe(stations, platform(tokens), receiver.url)
    s = await make_session(stations, tokens, capacity=1, max_seats_per_booking=1)
    h = worker(tokens)
    booked = []
    for n in (1, 2):
        r = await stations.post(
            f"{API}/sessions/{s['id']}/bookings", headers=h, json={"name": f"居民{n}", "phone": phone(n), "seats": 1}
        )
        booked.append(r.json())
    assert [b["status"] for b in booked] == ["confirmed", "waitlisted"]
    assert (await stations.post(f"{API}/bookings/{booked[0]['id']}/cancel", headers=h)).status_code == 200
    r = await stations.post(f"{API}/sessions/{s['id']}/cancel", headers=keeper(tokens), json={"reason": "老师生病"})
    assert r.status_code == 200, r.text
    await deliver(stations_app)
    events = verified(receiver, sub["secret"])
    assert [(e["type"], e["resource"]) for e in events] == [
        ("booking.cancelled", f"booking:{booked[0]['id']}"),
        ("booking.promoted", f"booking:{booked[1]['id']}"),
        ("session.cancelled", f"session:{s['id']}"),
    ]
    cancelled, promoted, session = (e["data"] for e in events)
    assert cancelled["previous_status"] == "confirmed" and cancelled["station"] == "testclass"
    assert promoted["status"] == "confirmed" and promoted["seats"] == 1
    assert session["reason"] == "老师生病" and session["below_minimum"] is False
    assert session["cancelled_bookings"] == [booked[1]["id"]] and session["service"] == "painting"


async def test_a_session_cancelled_below_its_minimum_by_the_worker_is_published(
    stations: httpx.AsyncClient, stations_app: FastAPI, tokens: Tokens, receiver: Receiver
) -> None:
    await station_with_class(stations, tokens)
    await subscribe(stations, platform(tokens), receiver.url, ["session.cancelled"])
    starts = utcnow() + dt.timedelta(days=3)
    cutoff = starts - dt.timedelta(days=1)
    s = await make_session(stations, tokens, starts_at=starts, min_participants=4, min_cutoff_at=cutoff)
    await stations.post(
        f"{API}/sessions/{s['id']}/bookings", headers=worker(tokens), json={"name": "居民", "phone": phone(7)}
    )
    async with stations_app.state.sessionmaker() as db:
        assert await bookings.auto_cancel_underbooked(db, cutoff + dt.timedelta(minutes=1)) == [s["id"]]
        await db.commit()
    await deliver(stations_app, cutoff + dt.timedelta(minutes=2))  # the worker's clock
    [event] = receiver.accepted
    assert event["type"] == "session.cancelled" and event["data"]["below_minimum"] is True


async def test_retry_outage_and_manual_redelivery_through_the_api(
    stations: httpx.AsyncClient, stations_app: FastAPI, tokens: Tokens, receiver: Receiver
) -> None:
    await seed_demo(stations_app)
    hp = platform(tokens)
    sub = await subscribe(stations, hp, receiver.url)
    receiver.fail_next = 1
    await _ticket_ready(stations, tokens)
    now = utcnow()
    assert await deliver(stations_app, now) == 0
    [d] = (await stations.get(f"{HOOKS}/subscriptions/{sub['id']}/deliveries", headers=hp)).json()["items"]
    assert d["status"] == "retrying" and d["response_code"] == 503 and d["next_attempt_at"]
    r = await stations.get(f"{HOOKS}/subscriptions/{sub['id']}/deliveries", headers=hp, params={"status": "delivered"})
    assert r.json()["items"] == []
    assert await deliver(stations_app, now + dt.timedelta(minutes=1)) == 1
    r = await stations.get(f"{HOOKS}/subscriptions/{sub['id']}/deliveries/{d['id']}", headers=hp)
    assert r.json()["status"] == "delivered" and r.json()["attempts"] == 2
    assert len(receiver.accepted) == 1
    # manual redelivery: same event id again
    r = await stations.post(f"{HOOKS}/subscriptions/{sub['id']}/deliveries/{d['id']}/redeliver", headers=hp)
    assert r.status_code == 202 and r.json()["status"] == "pending"
    assert await deliver(stations_app) == 1
    assert [p["id"] for p in receiver.accepted] == [d["event_id"], d["event_id"]]


async def test_ping_rotation_and_deactivation(
    stations: httpx.AsyncClient, stations_app: FastAPI, tokens: Tokens, receiver: Receiver
) -> None:
    hp = platform(tokens)
    sub = await subscribe(stations, hp, receiver.url)
    r = await stations.post(f"{HOOKS}/subscriptions/{sub['id']}/ping", headers=hp)
    assert r.status_code == 202 and r.json()["event_type"] == "webhook.ping"
    await deliver(stations_app)
    [ping] = verified(receiver, sub["secret"])
    assert ping["type"] == "webhook.ping" and ping["data"]["subscription_id"] == sub["id"]
    # rotate: the new secret is shown once; the old one keeps verifying for the overlap
    read = await stations.get(f"{HOOKS}/subscriptions/{sub['id']}", headers=hp)
    assert "secret" not in read.json() and sub["secret"] not in read.text
    stale = read.headers["etag"]
    r = await stations.post(
        f"{HOOKS}/subscriptions/{sub['id']}/rotate-secret",
        headers={**hp, "If-Match": stale},
        json={"overlap_hours": 2},
    )
    assert r.status_code == 200, r.text
    rotated = r.json()
    assert rotated["secret"] != sub["secret"] and rotated["previous_secret_expires_at"]
    r = await stations.post(
        f"{HOOKS}/subscriptions/{sub['id']}/rotate-secret", headers={**hp, "If-Match": stale}, json={}
    )
    assert r.status_code == 412
    await stations.post(f"{HOOKS}/subscriptions/{sub['id']}/ping", headers=hp)
    await deliver(stations_app)
    headers, body = receiver.requests[-1]
    Webhook(sub["secret"]).verify(body, headers)
    Webhook(rotated["secret"]).verify(body, headers)
    # deactivate: nothing more is sent
    r = await stations.post(f"{HOOKS}/subscriptions/{sub['id']}/deactivate", headers=hp)
    assert r.status_code == 200 and r.json()["active"] is False
    r = await stations.post(f"{HOOKS}/subscriptions/{sub['id']}/ping", headers=hp)
    assert r.status_code == 409 and r.json()["code"] == "subscription_inactive"


async def test_clients_see_only_their_own_subscriptions_and_county_admins_see_all(
    stations: httpx.AsyncClient, tokens: Tokens, receiver: Receiver
) -> None:
    mine = await subscribe(stations, platform(tokens), receiver.url)
    theirs = await subscribe(stations, platform(tokens, "other.platform"), receiver.url)
    r = await stations.get(f"{HOOKS}/subscriptions", headers=platform(tokens))
    assert [s["id"] for s in r.json()["items"]] == [mine["id"]]
    assert "secret" not in r.json()["items"][0]
    for path in ("", "/deliveries"):
        r = await stations.get(f"{HOOKS}/subscriptions/{theirs['id']}{path}", headers=platform(tokens))
        assert r.status_code == 404
    r = await stations.post(f"{HOOKS}/subscriptions/{theirs['id']}/deactivate", headers=platform(tokens))
    assert r.status_code == 404
    r = await stations.get(f"{HOOKS}/subscriptions", headers=county(tokens), params={"limit": 1})
    page = r.json()
    assert [s["id"] for s in page["items"]] == [mine["id"]] and page["next_cursor"]
    r = await stations.get(f"{HOOKS}/subscriptions", headers=county(tokens), params={"cursor": page["next_cursor"]})
    assert [s["id"] for s in r.json()["items"]] == [theirs["id"]]
    r = await stations.post(f"{HOOKS}/subscriptions/{theirs['id']}/deactivate", headers=county(tokens))
    assert r.status_code == 200


async def test_who_may_subscribe(stations: httpx.AsyncClient, tokens: Tokens, receiver: Receiver) -> None:
    body = {"url": receiver.url, "event_types": ["ticket.ready"]}
    # staff users, even with stations:read, and clients without a read scope of these events
    for headers in (keeper(tokens), worker(tokens), platform(tokens, scopes=("catalog:read", "demands:write"))):
        r = await stations.post(f"{HOOKS}/subscriptions", headers=headers, json=body)
        assert r.status_code == 403, r.text
    r = await stations.post(f"{HOOKS}/subscriptions", headers=county(tokens), json=body)
    assert r.status_code == 403 and r.json()["code"] == "clients_only"
    r = await stations.get(f"{HOOKS}/event-types", headers=platform(tokens))
    assert [e["type"] for e in r.json()] == ALL_EVENTS
    assert all(e["scopes"] == ["stations:read"] and e["example"] for e in r.json())


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        ({"url": "http://127.0.0.1:9/x", "event_types": ["ticket.lost"]}, "body.event_types.0", "unknown_event_type"),
        ({"url": "http://127.0.0.1:9/x", "event_types": []}, "body.event_types", "validation_failed"),
        ({"url": "http://127.0.0.1:9/" + "x" * 2000, "event_types": ["ticket.ready"]}, "body.url", "validation_failed"),
        ({"url": "ftp://127.0.0.1:9/x", "event_types": ["ticket.ready"]}, "body.url", "url_scheme"),
        ({"url": "not a url at all", "event_types": ["ticket.ready"]}, "body.url", "url_scheme"),
        (
            {"url": "http://127.0.0.1:9/x", "event_types": ["ticket.ready"], "secret": "mine"},
            "body.secret",
            "validation_failed",
        ),
        (
            {"url": "http://127.0.0.1:9/x", "event_types": ["ticket.ready"], "communities": ["zhenhuai"]},
            "body.communities",
            "invalid",
        ),
    ],
)
async def test_bad_subscriptions_are_422_naming_the_field(
    stations: httpx.AsyncClient, tokens: Tokens, body: dict[str, Any], field: str, code: str
) -> None:
    r = await stations.post(f"{HOOKS}/subscriptions", headers=platform(tokens), json=body)
    assert r.status_code == 422, r.text
    assert r.json()["code"] == code
    assert field in [e["field"] for e in r.json()["errors"]]


@pytest.mark.parametrize(
    ("method", "path", "params"),
    [
        ("get", "/subscriptions", {"cursor": "!!!"}),
        ("get", "/subscriptions", {"limit": "0"}),
        ("get", "/subscriptions/99999999999999999999", None),
        ("get", "/subscriptions/1/deliveries", {"status": "exploded"}),
        ("post", "/subscriptions/0/ping", None),
    ],
)
async def test_bad_paths_and_queries_are_4xx(
    stations: httpx.AsyncClient, tokens: Tokens, method: str, path: str, params: dict[str, str] | None
) -> None:
    r = await stations.request(method, f"{HOOKS}{path}", headers=platform(tokens), params=params)
    assert 400 <= r.status_code < 500, r.text


async def test_private_receivers_are_refused_when_not_allowed(
    stations: httpx.AsyncClient, stations_app: FastAPI, tokens: Tokens
) -> None:
    config = stations_app.state.webhook_config
    stations_app.state.webhook_config = dataclasses.replace(config, allow_private=False, require_https=True)
    try:
        for url in ("https://127.0.0.1/hooks", "https://169.254.169.254/latest", "https://[::1]:8443/x"):
            r = await stations.post(
                f"{HOOKS}/subscriptions", headers=platform(tokens), json={"url": url, "event_types": ["ticket.ready"]}
            )
            assert r.status_code == 422 and r.json()["code"] == "url_not_allowed", r.text
            assert r.json()["errors"][0]["field"] == "body.url"
        r = await stations.post(
            f"{HOOKS}/subscriptions",
            headers=platform(tokens),
            json={"url": "http://hooks.example.org/x", "event_types": ["ticket.ready"]},
        )
        assert r.status_code == 422 and r.json()["code"] == "url_https_required"
    finally:
        stations_app.state.webhook_config = config


def test_production_refuses_private_receivers_by_default() -> None:
    from doorstep_stations.config import StationsSettings

    prod = StationsSettings(
        environment="production",
        database_url="postgresql+asyncpg://x/y",
        pii_keys="k:" + "A" * 43,
        pii_hash_key="B" * 43,
    ).webhook_config()
    assert prod.allow_private is False and prod.require_https is True
    dev = StationsSettings(environment="development").webhook_config()
    assert dev.allow_private is True and dev.require_https is False
    assert dev.retry_window == dt.timedelta(hours=24)
