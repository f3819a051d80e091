"""Signed webhooks (doorstep_shared.webhooks) against a real local HTTP receiver.

Time is driven by passing ``now`` to the dispatcher; the receiver is an aiohttp server on a
free loopback port that can fail, stall or be down.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import os
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from sqlalchemy import MetaData, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from doorstep_shared.clock import utcnow
from doorstep_shared.db.engine import create_engine
from doorstep_shared.db.session import make_sessionmaker
from doorstep_shared.pii import PiiCipher
from doorstep_shared.webhooks import (
    DeliveryStatus,
    EventType,
    UnsafeUrl,
    WebhookConfig,
    WebhookDispatcher,
    Webhooks,
    check_url,
)

from ..support import PG_URL

metadata = MetaData()
hooks = Webhooks(
    metadata,
    service="test",
    events=[
        EventType("thing.changed", ("things:read",), "A thing changed"),
        EventType("thing.closed", ("things:read",), "A thing was closed"),
    ],
)
BOX = PiiCipher({"k1": os.urandom(32)}, "k1", os.urandom(32))
LOCAL = WebhookConfig(allow_private=True, require_https=False, timeout=2.0, base_delay=10, max_delay=600)


# --- a real receiver -----------------------------------------------------------------------


class Receiver:
    """A tiny HTTP server: records every request; can fail N times, stall, or be down."""

    def __init__(self) -> None:
        self.requests: list[tuple[dict[str, str], bytes]] = []  # every request that arrived
        self.accepted: list[dict[str, Any]] = []  # bodies answered 2xx
        self.fail_next = 0
        self.stall = 0.0
        self.status = 204
        self.port = 0
        self._release = asyncio.Event()
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        self.requests.append(({k.lower(): v for k, v in request.headers.items()}, body))
        if self.stall:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._release.wait(), self.stall)
        if self.fail_next > 0:
            self.fail_next -= 1
            return web.Response(status=503, text="busy")
        self.accepted.append(await request.json() if body else {})
        return web.Response(status=self.status)

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/hooks", self._handle)
        self._runner = web.AppRunner(app, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", self.port, reuse_address=True)
        await site.start()
        if not self.port:  # port 0 picked a free one: keep it, so a restart reuses it
            self.port = int(self._runner.addresses[0][1])

    async def stop(self) -> None:
        self._release.set()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        self._release = asyncio.Event()


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    r = Receiver()
    await r.start()
    try:
        yield r
    finally:
        await r.stop()


@pytest.fixture
async def maker(db_backend: str, tmp_path: Path) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    schema = None
    if db_backend == "sqlite":
        engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'webhooks.db'}")
    else:
        schema = f"t_webhooks_{uuid.uuid4().hex[:8]}"
        setup = create_engine(PG_URL, null_pool=True)
        async with setup.begin() as conn:
            await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        await setup.dispose()
        engine = create_engine(PG_URL, schema=schema, pool_size=10)
    async with engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    try:
        yield make_sessionmaker(engine)  # type: ignore[misc]
    finally:
        await engine.dispose()
        if schema:
            cleanup = create_engine(PG_URL, null_pool=True)
            async with cleanup.begin() as conn:
                await conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            await cleanup.dispose()


async def subscribe(
    maker: async_sessionmaker[AsyncSession],
    url: str,
    *,
    events: tuple[str, ...] = ("thing.changed", "thing.closed"),
    communities: list[str] | None = None,
    owner: str = "demo.platform",
) -> tuple[int, str]:
    async with maker() as session, session.begin():
        row, secret = await hooks.create_subscription(
            session,
            BOX,
            owner=owner,
            url=url,
            event_types=events,
            communities=communities,
            description=None,
            now=utcnow(),
            max_per_owner=20,
        )
    return int(row["id"]), secret


async def publish(
    maker: async_sessionmaker[AsyncSession],
    *events: tuple[str, str, dict[str, Any]],
    community: str | None = "chaoyang",
    now: dt.datetime | None = None,
) -> list[str]:
    ids = []
    async with maker() as session, session.begin():
        for event_type, resource, data in events:
            ids.append(await hooks.publish(session, event_type, resource, community, data, now=now))
    return ids


async def deliveries(maker: async_sessionmaker[AsyncSession]) -> list[dict[str, Any]]:
    d = hooks.tables.deliveries
    async with maker() as session:
        rows = (await session.execute(select(d).order_by(d.c.id))).mappings().all()
    return [dict(r) for r in rows]


def dispatcher(maker: async_sessionmaker[AsyncSession], config: WebhookConfig = LOCAL) -> WebhookDispatcher:
    return WebhookDispatcher(hooks, maker, BOX, config)


# --- signatures ----------------------------------------------------------------------------


async def test_event_is_signed_and_verifies_with_the_librarys_own_verifier(
    maker: async_sessionmaker[AsyncSession], receiver: Receiver
) -> None:
    _sub, secret = await subscribe(maker, receiver.url)
    [event_id] = await publish(maker, ("thing.changed", "thing:1", {"n": 1, "名称": "滨江花园"}))
    worker = dispatcher(maker)
    try:
        assert await worker.run_until_idle() == 1
    finally:
        await worker.aclose()
    [(headers, body)] = receiver.requests
    assert headers["webhook-id"] == event_id
    assert headers["content-type"] == "application/json"
    payload = Webhook(secret).verify(body, headers)
    assert payload["id"] == event_id and payload["type"] == "thing.changed"
    assert payload["data"] == {"n": 1, "名称": "滨江花园"}
    assert payload["resource"] == "thing:1" and payload["community"] == "chaoyang"
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(body.replace(b'"n":1', b'"n":2'), headers)
    with pytest.raises(WebhookVerificationError):
        Webhook("whsec_" + "QUJD" * 8).verify(body, headers)
    [row] = await deliveries(maker)
    assert row["status"] == DeliveryStatus.DELIVERED and row["attempts"] == 1
    assert row["response_code"] == 204 and row["latency_ms"] is not None


async def test_only_subscribed_types_and_visible_communities_are_delivered(
    maker: async_sessionmaker[AsyncSession], receiver: Receiver
) -> None:
    await subscribe(maker, receiver.url, events=("thing.closed",), communities=["chaoyang"])
    await subscribe(maker, receiver.url, events=("thing.changed",), owner="county.platform")
    await publish(maker, ("thing.changed", "thing:1", {}), ("thing.closed", "thing:1", {}))
    await publish(maker, ("thing.closed", "thing:2", {}), community="zhenhuai")
    rows = await deliveries(maker)
    assert sorted((r["event_type"], r["resource"]) for r in rows) == [
        ("thing.changed", "thing:1"),  # the all-communities subscriber
        ("thing.closed", "thing:1"),  # chaoyang only: not thing:2 of zhenhuai
    ]
    with pytest.raises(ValueError, match="unknown webhook event type"):
        await publish(maker, ("thing.exploded", "thing:1", {}))


async def test_nothing_is_queued_when_the_change_rolls_back(
    maker: async_sessionmaker[AsyncSession], receiver: Receiver
) -> None:
    await subscribe(maker, receiver.url)
    async with maker() as session:
        await hooks.publish(session, "thing.changed", "thing:1", "chaoyang", {})
        await session.rollback()
    assert await deliveries(maker) == []


# --- retries, dead letters, redelivery -----------------------------------------------------


async def test_failures_are_retried_with_backoff_then_succeed_with_the_same_webhook_id(
    maker: async_sessionmaker[AsyncSession], receiver: Receiver
) -> None:
    _sub, secret = await subscribe(maker, receiver.url)
    await publish(maker, ("thing.changed", "thing:1", {}))
    receiver.fail_next = 2
    worker = dispatcher(maker)
    now = utcnow()
    try:
        for attempt in (1, 2):
            assert await worker.run_once(now) == 0
            [row] = await deliveries(maker)
            assert row["status"] == DeliveryStatus.RETRYING and row["attempts"] == attempt
            assert row["response_code"] == 503 and "HTTP 503" in row["last_error"]
            delay = (row["next_attempt_at"] - now).total_seconds()
            ceiling = 10 * 2 ** (attempt - 1)
            assert ceiling / 2 <= delay <= ceiling  # exponential, jittered
            assert await worker.run_once(now + dt.timedelta(seconds=1)) == 0  # not due yet
            now = row["next_attempt_at"]
        assert await worker.run_once(now) == 1
    finally:
        await worker.aclose()
    [row] = await deliveries(maker)
    assert row["status"] == DeliveryStatus.DELIVERED and row["attempts"] == 3
    assert row["next_attempt_at"] is None and row["last_error"] is None
    assert len(receiver.requests) == 3
    assert len({h["webhook-id"] for h, _ in receiver.requests}) == 1  # stable across retries
    for headers, body in receiver.requests:
        Webhook(secret).verify(body, headers)  # every attempt freshly signed and valid


async def test_a_receiver_down_for_the_whole_window_is_dead_lettered_then_redelivered(
    maker: async_sessionmaker[AsyncSession], receiver: Receiver
) -> None:
    await subscribe(maker, receiver.url)
    await receiver.stop()  # connection refused from now on
    [first, second] = await publish(
        maker, ("thing.changed", "thing:1", {"n": 1}), ("thing.closed", "thing:1", {"n": 2})
    )
    config = WebhookConfig(
        allow_private=True, require_https=False, base_delay=60, max_delay=1800, retry_window=dt.timedelta(hours=3)
    )
    worker = dispatcher(maker, config)
    now = utcnow()
    try:
        for _ in range(100):
            await worker.run_once(now)
            head = (await deliveries(maker))[0]
            if head["status"] == DeliveryStatus.DEAD:
                break
            assert head["status"] == DeliveryStatus.RETRYING
            assert (await deliveries(maker))[1]["attempts"] == 0  # waits behind its resource's head
            now = head["next_attempt_at"]
        head = (await deliveries(maker))[0]
        assert head["status"] == DeliveryStatus.DEAD
        assert head["event_id"] == first and "ConnectError" in head["last_error"]
        assert head["attempts"] >= 5
        # gave up exactly at the end of the window, not earlier
        assert now - head["created_at"] == dt.timedelta(hours=3)
        # The dead letter no longer blocks its resource: the next event goes when the receiver is back.
        await receiver.start()
        assert await worker.run_until_idle(now) == 1
        assert [p["id"] for p in receiver.accepted] == [second]
        # A manual redelivery sends the dead one again, with its original id.
        async with maker() as session, session.begin():
            dead = await hooks.get_delivery(session, head["subscription_id"], head["id"])
            again = await hooks.redeliver(session, dead, now)
        assert again["status"] == DeliveryStatus.PENDING
        assert await worker.run_until_idle(now) == 1
        assert [p["id"] for p in receiver.accepted] == [second, first]
        assert (await deliveries(maker))[0]["status"] == DeliveryStatus.DELIVERED
        assert await worker.run_until_idle(now + dt.timedelta(days=2)) == 0  # exactly once
    finally:
        await worker.aclose()


async def test_outage_then_recovery_delivers_every_event_once_in_order_per_resource(
    maker: async_sessionmaker[AsyncSession], receiver: Receiver
) -> None:
    await subscribe(maker, receiver.url)
    await receiver.stop()
    start = utcnow()
    published: dict[str, list[str]] = {}
    for i in range(6):  # interleaved events of three resources
        for thing in ("a", "b", "c"):
            [eid] = await publish(
                maker, ("thing.changed", f"thing:{thing}", {"seq": i}), now=start + dt.timedelta(seconds=i)
            )
            published.setdefault(f"thing:{thing}", []).append(eid)
    worker = dispatcher(maker, WebhookConfig(allow_private=True, require_https=False, base_delay=30, max_delay=900))
    try:
        now = start
        while now < start + dt.timedelta(hours=1):  # an hour down
            assert await worker.run_until_idle(now) == 0
            now += dt.timedelta(minutes=5)
        assert receiver.accepted == []
        await receiver.start()
        for _ in range(20):
            now += dt.timedelta(minutes=5)
            await worker.run_until_idle(now)
            if len(receiver.accepted) == 18:
                break
        # a second replica and later passes find nothing left to send
        other = dispatcher(maker)
        await asyncio.gather(worker.run_until_idle(now), other.run_until_idle(now))
        await other.aclose()
    finally:
        await worker.aclose()
    ids = [p["id"] for p in receiver.accepted]
    assert len(ids) == 18 and len(set(ids)) == 18  # every event, exactly once
    for resource, expected in published.items():
        got = [p["id"] for p in receiver.accepted if p["resource"] == resource]
        assert got == expected, resource  # in order per resource
    assert {r["status"] for r in await deliveries(maker)} == {DeliveryStatus.DELIVERED}


async def test_concurrent_dispatchers_send_each_event_once(
    maker: async_sessionmaker[AsyncSession], receiver: Receiver
) -> None:
    await subscribe(maker, receiver.url)
    await publish(maker, *((("thing.changed", f"thing:{i % 7}", {"i": i})) for i in range(40)))
    config = WebhookConfig(allow_private=True, require_https=False, batch_size=5)
    workers = [dispatcher(maker, config) for _ in range(3)]
    try:
        sent = await asyncio.gather(*(w.run_until_idle(max_batches=200) for w in workers))
    finally:
        for w in workers:
            await w.aclose()
    assert sum(sent) == 40
    ids = [h["webhook-id"] for h, _ in receiver.requests]
    assert len(ids) == 40 and len(set(ids)) == 40
    for key in range(7):
        seq = [p["data"]["i"] for p in receiver.accepted if p["resource"] == f"thing:{key}"]
        assert seq == sorted(seq)


async def test_redirects_are_not_followed(maker: async_sessionmaker[AsyncSession], receiver: Receiver) -> None:
    await subscribe(maker, receiver.url)
    await publish(maker, ("thing.changed", "thing:1", {}))
    receiver.status = 302
    worker = dispatcher(maker)
    try:
        assert await worker.run_once() == 0
    finally:
        await worker.aclose()
    [row] = await deliveries(maker)
    assert row["status"] == DeliveryStatus.RETRYING and "redirect not followed" in row["last_error"]


# --- rotation ------------------------------------------------------------------------------


async def test_both_secrets_verify_during_the_rotation_overlap_then_only_the_new_one(
    maker: async_sessionmaker[AsyncSession], receiver: Receiver
) -> None:
    sub_id, old = await subscribe(maker, receiver.url)
    now = utcnow()
    async with maker() as session, session.begin():
        row = await hooks.get_subscription(session, sub_id, None)
        rotated, new = await hooks.rotate_secret(session, BOX, row, dt.timedelta(hours=1), now)
    assert new != old and rotated["previous_secret_expires_at"] == now + dt.timedelta(hours=1)
    assert old not in str(dict(rotated)) and new not in str(dict(rotated))  # stored encrypted
    worker = dispatcher(maker)
    try:
        await publish(maker, ("thing.changed", "thing:1", {}), now=now)
        assert await worker.run_until_idle(now + dt.timedelta(minutes=30)) == 1
        headers, body = receiver.requests[-1]
        assert len(headers["webhook-signature"].split(" ")) == 2
        Webhook(old).verify(body, headers)
        Webhook(new).verify(body, headers)
        await publish(maker, ("thing.changed", "thing:1", {}), now=now)
        assert await worker.run_until_idle(now + dt.timedelta(hours=2)) == 1
    finally:
        await worker.aclose()
    headers, body = receiver.requests[-1]
    assert len(headers["webhook-signature"].split(" ")) == 1
    Webhook(new).verify(body, headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(old).verify(body, headers)


# --- slow receivers ------------------------------------------------------------------------


async def test_a_slow_receiver_times_out_without_holding_up_others_or_the_database(
    maker: async_sessionmaker[AsyncSession], receiver: Receiver
) -> None:
    slow = Receiver()
    slow.stall = 10.0
    await slow.start()
    try:
        slow_sub, _ = await subscribe(maker, slow.url, owner="slow.platform", events=("thing.closed",))
        await subscribe(maker, receiver.url, owner="fast.platform", events=("thing.changed",))
        await publish(maker, *((("thing.closed", f"thing:{i}", {})) for i in range(4)))
        await publish(maker, *((("thing.changed", f"thing:{i}", {})) for i in range(6)))
        # 4 POSTs in flight at most, 2 per subscription: the slow one can never take them all.
        config = WebhookConfig(
            allow_private=True, require_https=False, timeout=1.0, concurrency=4, per_subscription_concurrency=2
        )
        worker = dispatcher(maker, config)
        started = time.perf_counter()
        run = asyncio.create_task(worker.run_once())
        await asyncio.sleep(0.2)
        # While the dispatcher waits on the slow receiver, the service writes at full speed
        # (no transaction is open during the POSTs: on SQLite it would block every writer).
        write_started = time.perf_counter()
        await publish(maker, ("thing.closed", "thing:x", {}))
        assert time.perf_counter() - write_started < 0.5
        assert len(receiver.accepted) == 6  # the fast receiver was served meanwhile
        delivered = await run
        elapsed = time.perf_counter() - started
        await worker.aclose()
    finally:
        await slow.stop()
    assert delivered == 6
    assert elapsed < 3.5  # two rounds of the 1 s deadline for the slow one, not 4 × 10 s
    stalled = [r for r in await deliveries(maker) if r["subscription_id"] == slow_sub and r["attempts"]]
    assert len(stalled) == 4
    assert all(r["status"] == DeliveryStatus.RETRYING and "timeout" in r["last_error"] for r in stalled)


# --- outbound URL safety -------------------------------------------------------------------


async def fake_dns(host: str, port: int) -> list[str]:
    return {
        "hooks.example.org": ["93.184.216.34"],
        "mixed.example.org": ["93.184.216.34", "10.1.2.3"],
        "internal.example.org": ["192.168.10.5"],
        "localhost": ["127.0.0.1", "::1"],
    }.get(host, [])


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/hooks",
        "https://localhost:8443/hooks",
        "https://10.0.0.7/hooks",
        "https://172.16.3.4/hooks",
        "https://192.168.1.1/hooks",
        "https://169.254.169.254/latest/meta-data",
        "https://0.0.0.0/hooks",
        "https://[::1]/hooks",
        "https://[fe80::1]/hooks",
        "https://[::ffff:127.0.0.1]/hooks",
        "https://100.64.0.1/hooks",
        "https://internal.example.org/hooks",
        "https://mixed.example.org/hooks",
    ],
)
async def test_private_loopback_and_link_local_receivers_are_refused(url: str) -> None:
    with pytest.raises(UnsafeUrl) as refused:
        await check_url(url, allow_private=False, require_https=True, resolver=fake_dns)
    assert refused.value.code == "url_not_allowed"
    await check_url(url, allow_private=True, require_https=True, resolver=fake_dns)  # when allowed


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("http://hooks.example.org/x", "url_https_required"),
        ("ftp://hooks.example.org/x", "url_scheme"),
        ("https://user:pw@hooks.example.org/x", "url_credentials"),
        ("https://nowhere.example.org/x", "url_unresolvable"),
        ("https:///x", "url_invalid"),
    ],
)
async def test_other_unsafe_urls_are_refused_with_a_reason(url: str, code: str) -> None:
    with pytest.raises(UnsafeUrl) as refused:
        await check_url(url, allow_private=False, require_https=True, resolver=fake_dns)
    assert refused.value.code == code


async def test_a_public_https_receiver_is_accepted() -> None:
    await check_url("https://hooks.example.org/doorstep", allow_private=False, require_https=True, resolver=fake_dns)


async def test_the_address_is_checked_again_at_send_time(
    maker: async_sessionmaker[AsyncSession], receiver: Receiver
) -> None:
    await subscribe(maker, receiver.url)  # accepted while private addresses were allowed
    await publish(maker, ("thing.changed", "thing:1", {}))
    worker = dispatcher(maker, WebhookConfig(allow_private=False, require_https=False))
    try:
        assert await worker.run_once() == 0
    finally:
        await worker.aclose()
    assert receiver.requests == []
    [row] = await deliveries(maker)
    assert row["status"] == DeliveryStatus.RETRYING and "url_not_allowed" not in row["last_error"]
    assert "private, loopback" in row["last_error"]


# --- deactivation --------------------------------------------------------------------------


async def test_queued_deliveries_of_a_deactivated_subscription_are_cancelled(
    maker: async_sessionmaker[AsyncSession], receiver: Receiver
) -> None:
    sub_id, _ = await subscribe(maker, receiver.url)
    await publish(maker, ("thing.changed", "thing:1", {}))
    async with maker() as session, session.begin():
        row = await hooks.get_subscription(session, sub_id, "demo.platform")
        await hooks.deactivate(session, row, utcnow())
    await publish(maker, ("thing.changed", "thing:1", {}))  # not queued at all any more
    worker = dispatcher(maker)
    try:
        assert await worker.run_until_idle() == 1  # the queued one, finished as cancelled
    finally:
        await worker.aclose()
    assert receiver.requests == []
    assert [r["status"] for r in await deliveries(maker)] == [DeliveryStatus.CANCELLED]
