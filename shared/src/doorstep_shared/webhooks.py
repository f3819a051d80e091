"""Signed webhooks for any service: subscriptions, same-transaction fan-out, a dispatcher, routes.

A service keeps one :class:`Webhooks` object, built on its MetaData (so its migrations create
the three tables: ``webhook_subscription``, ``webhook_delivery`` and ``webhook_outbox``)::

    hooks = Webhooks(metadata, service="stations", events=[EventType("ticket.ready", ...)])

* Service code calls ``await hooks.publish(session, "ticket.ready", f"ticket:{id}", community,
  payload)`` in the transaction that makes the change. It writes one delivery row and one outbox
  row per matching active subscription (event type subscribed, community visible to the client),
  so an event exists if and only if the change committed.
* A :class:`WebhookDispatcher` (an :class:`~doorstep_shared.outbox.OutboxWorker`) POSTs each event
  as JSON, signed per Standard Webhooks (``webhook-id`` = the event id, the same on every retry;
  ``webhook-timestamp``; ``webhook-signature`` with one ``v1,<base64>`` entry per valid secret, so
  receivers verify during a rotation). Failures are retried with exponential back-off and
  jitter for ``retry_window`` (a day), then dead-lettered; the delivery log keeps every outcome.
  Events of one resource reach one subscription in order (the outbox key is
  ``sub:<id>:<resource>``), and a 2xx answer marks the delivery done once: it is not sent again
  unless someone asks for a manual redelivery.
* :func:`webhooks_router` gives clients the routes to manage their subscriptions.

Unlike a plain outbox handler, the dispatcher does not hold the claiming transaction open while
it talks to receivers: it leases the due rows (pushes ``available_at`` past the send timeout),
commits, sends concurrently (bounded overall and per subscription, each POST under a hard
deadline), then records the outcomes in a second transaction. A slow or dead receiver therefore
never holds database locks (on SQLite that lock would stall every write of the service), and a
crash between sending and recording only means the event is sent again after the lease, with
the same ``webhook-id`` for the receiver to de-duplicate.

Outbound URL safety: only http(s); https in production; no credentials in the URL; no
redirects followed; and unless ``allow_private`` the host must resolve to public addresses only
(checked at subscription time and again before every send).
"""

# No ``from __future__ import annotations`` here: the routes are built inside a factory and
# FastAPI must see their (local) Annotated dependency types as objects, not as strings.
import asyncio
import base64
import datetime as dt
import ipaddress
import json
import logging
import secrets as secrets_module
import socket
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any, Protocol

import httpx
from fastapi import APIRouter, Depends, Path, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    UniqueConstraint,
    insert,
    select,
    update,
)
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession as SAAsyncSession
from sqlalchemy.ext.asyncio import async_sessionmaker
from standardwebhooks import Webhook

from .app import DbSession
from .clock import utcnow
from .db import JSONType, UTCDateTime
from .errors import Conflict, Forbidden, Invalid, NotFound
from .http import check_if_match, etag_of
from .outbox import OutboxMessage, OutboxWorker, backoff_delay, enqueue, make_outbox_table
from .pagination import CursorParam, LimitParam, Page, decode_cursor, encode_cursor
from .permissions import Permission
from .security import CurrentPrincipal, current_principal
from .tokens import Principal

logger = logging.getLogger("doorstep.webhooks")

PING = "webhook.ping"
SECRET_CONTEXT = "webhook_secret"  # noqa: S105 (AES-GCM associated data, not a secret)
USER_AGENT = "Doorstep-Webhooks/1"
_ID_TYPE = BigInteger().with_variant(Integer(), "sqlite")


class DeliveryStatus:
    PENDING = "pending"  # queued, not tried yet (or queued again by a redelivery)
    RETRYING = "retrying"  # failed at least once, another attempt is scheduled
    DELIVERED = "delivered"  # the receiver answered 2xx
    DEAD = "dead"  # gave up: retry window or attempt limit exhausted
    CANCELLED = "cancelled"  # the subscription was deactivated before it went out

    ALL = (PENDING, RETRYING, DELIVERED, DEAD, CANCELLED)


# --- configuration -------------------------------------------------------------------------

Resolver = Callable[[str, int], Awaitable[list[str]]]


class SecretBox(Protocol):
    """Encrypts secrets at rest (``doorstep_shared.pii.PiiCipher`` is one)."""

    def encrypt(self, plaintext: str, *, context: str = "") -> str: ...

    def decrypt(self, token: str, *, context: str = "") -> str: ...


@dataclass(frozen=True)
class WebhookConfig:
    """Per-service knobs; each service builds one from its settings."""

    allow_private: bool = False  # development/test: loopback receivers are fine
    require_https: bool = True  # production
    timeout: float = 5.0  # hard deadline of one POST (DNS + connect + send + headers)
    concurrency: int = 16  # POSTs in flight per dispatcher process
    per_subscription_concurrency: int = 4  # so one slow receiver cannot take every slot
    retry_window: dt.timedelta = dt.timedelta(days=1)
    base_delay: float = 10.0  # first retry after 5-10 s, then doubling …
    max_delay: float = 3 * 3600.0  # … up to 1.5-3 h between attempts
    max_attempts: int = 100  # a backstop; the retry window normally ends retries first
    batch_size: int = 50
    poll_interval: float = 2.0
    max_subscriptions_per_owner: int = 20
    resolver: Resolver | None = None  # tests inject one; default: the system resolver


@dataclass(frozen=True)
class EventType:
    """An event a service publishes, and the client scopes that may subscribe to it."""

    name: str
    scopes: tuple[str, ...]
    description: str = ""
    example: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class WebhookTables:
    subscriptions: Table
    deliveries: Table
    outbox: Table


def make_webhook_tables(metadata: MetaData) -> WebhookTables:
    """The webhook tables, defined in the caller's MetaData (so its migrations create them)."""
    subscriptions = Table(
        "webhook_subscription",
        metadata,
        Column("id", _ID_TYPE, primary_key=True, autoincrement=True),
        Column("owner", String(200), nullable=False, index=True),  # the client id
        Column("url", String(2000), nullable=False),
        Column("description", String(200), nullable=True),
        Column("event_types", JSONType, nullable=False),
        Column("communities", JSONType, nullable=True),  # null: every community
        Column("active", Boolean, nullable=False, default=True),
        Column("secret_cipher", String(500), nullable=False),
        Column("previous_secret_cipher", String(500), nullable=True),
        Column("previous_secret_expires_at", UTCDateTime(), nullable=True),
        Column("secret_rotated_at", UTCDateTime(), nullable=True),
        Column("created_at", UTCDateTime(), nullable=False),
        Column("updated_at", UTCDateTime(), nullable=False),
        Column("deactivated_at", UTCDateTime(), nullable=True),
        Column("version", Integer, nullable=False, default=1),
    )
    deliveries = Table(
        "webhook_delivery",
        metadata,
        Column("id", _ID_TYPE, primary_key=True, autoincrement=True),
        Column("event_id", String(64), nullable=False),
        Column("event_type", String(100), nullable=False),
        Column(
            "subscription_id",
            _ID_TYPE,
            ForeignKey("webhook_subscription.id", ondelete="CASCADE"),
            nullable=False,
        ),
        Column("resource", String(200), nullable=False),
        Column("community", String(64), nullable=True),
        Column("payload", JSONType, nullable=False),  # the exact envelope (kept for redelivery)
        Column("status", String(20), nullable=False),
        Column("attempts", Integer, nullable=False, default=0),
        Column("response_code", Integer, nullable=True),
        Column("latency_ms", Integer, nullable=True),
        Column("last_error", String(500), nullable=True),
        Column("next_attempt_at", UTCDateTime(), nullable=True),
        Column("last_attempt_at", UTCDateTime(), nullable=True),
        Column("delivered_at", UTCDateTime(), nullable=True),
        Column("created_at", UTCDateTime(), nullable=False),
        UniqueConstraint("event_id", "subscription_id"),
        Index("ix_webhook_delivery_subscription", "subscription_id", "id"),
    )
    return WebhookTables(subscriptions, deliveries, make_outbox_table(metadata, "webhook_outbox"))


# --- outbound URL safety -------------------------------------------------------------------


class UnsafeUrl(ValueError):
    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.code = code


async def resolve_host(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to (an IP literal resolves to itself); [] if none."""
    try:
        return [str(ipaddress.ip_address(host))]
    except ValueError:
        pass
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        return []
    return sorted({str(info[4][0]) for info in infos})


def address_is_public(address: str) -> bool:
    """False for private, loopback, link-local, unspecified, multicast, reserved, CGNAT …"""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


async def check_url(url: str, *, allow_private: bool, require_https: bool, resolver: Resolver | None = None) -> None:
    """Refuse a receiver URL we must not call; raises :class:`UnsafeUrl` with a stable code."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError) as exc:
        raise UnsafeUrl("not a valid URL", "url_invalid") from exc
    if parsed.scheme not in ("http", "https"):
        raise UnsafeUrl("only http and https URLs can receive webhooks", "url_scheme")
    if require_https and parsed.scheme != "https":
        raise UnsafeUrl("an https URL is required", "url_https_required")
    if not parsed.host:
        raise UnsafeUrl("the URL has no host", "url_invalid")
    if parsed.userinfo:
        raise UnsafeUrl("credentials in the URL are not accepted", "url_credentials")
    if allow_private:
        return
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    try:
        addresses = [str(ipaddress.ip_address(parsed.host))]
    except ValueError:
        addresses = await (resolver or resolve_host)(parsed.host, port)
    if not addresses:
        raise UnsafeUrl(f"{parsed.host} does not resolve", "url_unresolvable")
    if not all(address_is_public(a) for a in addresses):
        raise UnsafeUrl(
            f"{parsed.host} resolves to a private, loopback, link-local or reserved address",
            "url_not_allowed",
        )


# --- secrets and signatures ----------------------------------------------------------------


def new_secret() -> str:
    """A Standard Webhooks secret: ``whsec_`` + base64 of 32 random bytes."""
    return "whsec_" + base64.b64encode(secrets_module.token_bytes(32)).decode()


def sign_headers(event_id: str, body: str, secrets: Sequence[str], timestamp: dt.datetime) -> dict[str, str]:
    """The Standard Webhooks headers, signed with every given secret (space-separated)."""
    signatures = " ".join(Webhook(s).sign(event_id, timestamp, body) for s in secrets)
    return {
        "webhook-id": event_id,
        "webhook-timestamp": str(int(timestamp.timestamp())),
        "webhook-signature": signatures,
    }


def encode_body(envelope: Mapping[str, Any]) -> str:
    return json.dumps(envelope, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def new_event_id() -> str:
    return f"msg_{uuid.uuid4().hex}"


# --- the per-service object: tables, events, publish, management ---------------------------


class Webhooks:
    """One service's webhooks: its tables, its event catalogue, publishing and management."""

    def __init__(self, metadata: MetaData, *, service: str, events: Iterable[EventType]) -> None:
        self.service = service
        self.tables = make_webhook_tables(metadata)
        self.events: dict[str, EventType] = {e.name: e for e in events}
        self.scopes: frozenset[str] = frozenset(s for e in self.events.values() for s in e.scopes)

    # -- publishing (service code, in the change's transaction) --

    async def publish(
        self,
        session: SAAsyncSession,
        event_type: str,
        resource_key: str,
        community: str | None,
        payload: Mapping[str, Any],
        *,
        now: dt.datetime | None = None,
    ) -> str:
        """Queue ``event_type`` for every matching subscription; returns the event id."""
        if event_type not in self.events:
            raise ValueError(f"unknown webhook event type {event_type!r}")
        now = now or utcnow()
        event_id = new_event_id()
        envelope = self._envelope(event_id, event_type, resource_key, community, payload, now)
        s = self.tables.subscriptions
        conn = await session.connection()
        rows = (
            await conn.execute(
                select(s.c.id, s.c.event_types, s.c.communities).where(s.c.active.is_(True)).order_by(s.c.id)
            )
        ).all()
        for sub_id, event_types, communities in rows:
            if event_type not in (event_types or ()):
                continue
            if communities is not None and community not in communities:
                continue
            await self._queue_delivery(session, int(sub_id), envelope, now)
        return event_id

    def _envelope(
        self,
        event_id: str,
        event_type: str,
        resource: str,
        community: str | None,
        data: Mapping[str, Any],
        now: dt.datetime,
    ) -> dict[str, Any]:
        return {
            "id": event_id,
            "type": event_type,
            "timestamp": now.astimezone(dt.UTC).isoformat().replace("+00:00", "Z"),
            "service": self.service,
            "resource": resource[:200],
            "community": community,
            "data": dict(data),
        }

    async def _queue_delivery(
        self, session: SAAsyncSession, subscription_id: int, envelope: Mapping[str, Any], now: dt.datetime
    ) -> int:
        d = self.tables.deliveries
        conn = await session.connection()
        result = await conn.execute(
            insert(d).values(
                event_id=envelope["id"],
                event_type=envelope["type"],
                subscription_id=subscription_id,
                resource=envelope["resource"],
                community=envelope["community"],
                payload=dict(envelope),
                status=DeliveryStatus.PENDING,
                attempts=0,
                next_attempt_at=now,
                created_at=now,
            )
        )
        assert result.inserted_primary_key is not None
        delivery_id = int(result.inserted_primary_key[0])
        await self._enqueue(session, subscription_id, delivery_id, envelope, now)
        return delivery_id

    async def _enqueue(
        self,
        session: SAAsyncSession,
        subscription_id: int,
        delivery_id: int,
        envelope: Mapping[str, Any],
        now: dt.datetime,
    ) -> None:
        # One queue per (subscription, resource): order holds per resource and receiver, and
        # one receiver's outage never holds back another's deliveries.
        key = f"sub:{subscription_id}:{envelope['resource']}"[:200]
        await enqueue(
            session,
            self.tables.outbox,
            str(envelope["type"]),
            key,
            {"delivery_id": delivery_id},
            now=now,
        )

    # -- management (called by the routes; tenancy: a client sees only its own) --

    async def get_subscription(self, session: SAAsyncSession, subscription_id: int, owner: str | None) -> RowMapping:
        s = self.tables.subscriptions
        query = select(s).where(s.c.id == subscription_id)
        if owner is not None:
            query = query.where(s.c.owner == owner)
        conn = await session.connection()
        row = (await conn.execute(query)).mappings().first()
        if row is None:
            raise NotFound("No such webhook subscription.", code="subscription_not_found")
        return row

    async def list_subscriptions(
        self, session: SAAsyncSession, owner: str | None, after_id: int | None, limit: int
    ) -> list[RowMapping]:
        s = self.tables.subscriptions
        query = select(s).order_by(s.c.id).limit(limit + 1)
        if owner is not None:
            query = query.where(s.c.owner == owner)
        if after_id is not None:
            query = query.where(s.c.id > after_id)
        conn = await session.connection()
        return list((await conn.execute(query)).mappings().all())

    async def create_subscription(
        self,
        session: SAAsyncSession,
        box: SecretBox,
        *,
        owner: str,
        url: str,
        event_types: Sequence[str],
        communities: Sequence[str] | None,
        description: str | None,
        now: dt.datetime,
        max_per_owner: int,
    ) -> tuple[RowMapping, str]:
        s = self.tables.subscriptions
        conn = await session.connection()
        active = (await conn.execute(select(s.c.id).where(s.c.owner == owner, s.c.active.is_(True)))).all()
        if len(active) >= max_per_owner:
            raise Conflict(
                f"At most {max_per_owner} active subscriptions per client.",
                code="too_many_subscriptions",
            )
        secret = new_secret()
        result = await conn.execute(
            insert(s).values(
                owner=owner,
                url=url,
                description=description,
                event_types=sorted(set(event_types)),
                communities=sorted(set(communities)) if communities is not None else None,
                active=True,
                secret_cipher=box.encrypt(secret, context=SECRET_CONTEXT),
                created_at=now,
                updated_at=now,
                version=1,
            )
        )
        assert result.inserted_primary_key is not None
        row = await self.get_subscription(session, int(result.inserted_primary_key[0]), None)
        return row, secret

    async def rotate_secret(
        self,
        session: SAAsyncSession,
        box: SecretBox,
        subscription: RowMapping,
        overlap: dt.timedelta,
        now: dt.datetime,
    ) -> tuple[RowMapping, str]:
        """A new secret signs from now on; the current one keeps verifying for ``overlap``."""
        s = self.tables.subscriptions
        secret = new_secret()
        keep_old = overlap > dt.timedelta(0)
        conn = await session.connection()
        result = await conn.execute(
            update(s)
            .where(s.c.id == subscription["id"], s.c.version == subscription["version"])
            .values(
                secret_cipher=box.encrypt(secret, context=SECRET_CONTEXT),
                previous_secret_cipher=subscription["secret_cipher"] if keep_old else None,
                previous_secret_expires_at=now + overlap if keep_old else None,
                secret_rotated_at=now,
                updated_at=now,
                version=s.c.version + 1,
            )
        )
        if result.rowcount != 1:
            raise Conflict("The subscription changed meanwhile; reload it.", code="subscription_changed")
        return await self.get_subscription(session, int(subscription["id"]), None), secret

    async def deactivate(self, session: SAAsyncSession, subscription: RowMapping, now: dt.datetime) -> RowMapping:
        """Stop sending; queued deliveries are cancelled when the dispatcher reaches them."""
        s = self.tables.subscriptions
        if subscription["active"]:
            conn = await session.connection()
            await conn.execute(
                update(s)
                .where(s.c.id == subscription["id"])
                .values(active=False, deactivated_at=now, updated_at=now, version=s.c.version + 1)
            )
        return await self.get_subscription(session, int(subscription["id"]), None)

    async def list_deliveries(
        self,
        session: SAAsyncSession,
        subscription_id: int,
        statuses: Sequence[str] | None,
        before_id: int | None,
        limit: int,
    ) -> list[RowMapping]:
        d = self.tables.deliveries
        query = select(d).where(d.c.subscription_id == subscription_id).order_by(d.c.id.desc()).limit(limit + 1)
        if statuses:
            query = query.where(d.c.status.in_(list(statuses)))
        if before_id is not None:
            query = query.where(d.c.id < before_id)
        conn = await session.connection()
        return list((await conn.execute(query)).mappings().all())

    async def get_delivery(self, session: SAAsyncSession, subscription_id: int, delivery_id: int) -> RowMapping:
        d = self.tables.deliveries
        conn = await session.connection()
        row = (
            (await conn.execute(select(d).where(d.c.id == delivery_id, d.c.subscription_id == subscription_id)))
            .mappings()
            .first()
        )
        if row is None:
            raise NotFound("No such delivery.", code="delivery_not_found")
        return row

    async def redeliver(self, session: SAAsyncSession, delivery: RowMapping, now: dt.datetime) -> RowMapping:
        """Send an event again (same ``webhook-id``), whatever became of it before."""
        d = self.tables.deliveries
        conn = await session.connection()
        await conn.execute(
            update(d).where(d.c.id == delivery["id"]).values(status=DeliveryStatus.PENDING, next_attempt_at=now)
        )
        await self._enqueue(session, int(delivery["subscription_id"]), int(delivery["id"]), delivery["payload"], now)
        return await self.get_delivery(session, int(delivery["subscription_id"]), int(delivery["id"]))

    async def ping(self, session: SAAsyncSession, subscription: RowMapping, now: dt.datetime) -> RowMapping:
        """Queue a ``webhook.ping`` test event to one subscription."""
        event_id = new_event_id()
        envelope = self._envelope(
            event_id,
            PING,
            f"subscription:{subscription['id']}",
            None,
            {"subscription_id": subscription["id"], "message": "Doorstep webhook test"},
            now,
        )
        delivery_id = await self._queue_delivery(session, int(subscription["id"]), envelope, now)
        return await self.get_delivery(session, int(subscription["id"]), delivery_id)


# --- the dispatcher ------------------------------------------------------------------------


@dataclass
class _Job:
    outbox_id: int
    outbox_attempts: int
    outbox_created_at: dt.datetime
    delivery: RowMapping | None


@dataclass
class _Outcome:
    sent: bool = False  # the receiver answered 2xx
    skipped: str | None = None  # nothing to send: "done", "inactive", "missing"
    status_code: int | None = None
    latency_ms: int | None = None
    error: str | None = None


async def _never_called(session: SAAsyncSession, message: OutboxMessage) -> None:
    raise RuntimeError("WebhookDispatcher delivers outside the claiming transaction")


class WebhookDispatcher(OutboxWorker):
    """Delivers a service's webhook outbox. ``run_once(now)`` / ``run_until_idle(now)`` /
    ``run_forever(stop)`` behave as for any :class:`OutboxWorker`; ``now`` drives scheduling
    (tests pass it), while the signed ``webhook-timestamp`` is the wall-clock send time."""

    def __init__(
        self,
        hooks: Webhooks,
        sessionmaker: async_sessionmaker[Any],
        box: SecretBox,
        config: WebhookConfig,
        *,
        http: httpx.AsyncClient | None = None,
        clock: Callable[[], dt.datetime] = utcnow,
    ) -> None:
        super().__init__(
            sessionmaker,
            hooks.tables.outbox,
            _never_called,
            batch_size=config.batch_size,
            max_attempts=config.max_attempts,
            base_delay=config.base_delay,
            max_delay=config.max_delay,
            poll_interval=config.poll_interval,
        )
        self.hooks = hooks
        self.box = box
        self.config = config
        self.clock = clock
        self._own_http = http is None
        self.http = http or httpx.AsyncClient(
            follow_redirects=False,
            trust_env=False,
            timeout=httpx.Timeout(config.timeout),
            limits=httpx.Limits(max_connections=config.concurrency, max_keepalive_connections=config.concurrency),
            headers={"user-agent": USER_AGENT},
        )
        self._slots = asyncio.Semaphore(config.concurrency)
        self._per_subscription: dict[int, asyncio.Semaphore] = {}

    async def aclose(self) -> None:
        if self._own_http:
            await self.http.aclose()

    async def _run_batch(self, now: dt.datetime | None) -> tuple[int, int]:
        now = now or utcnow()
        jobs = await self._claim(now)
        if not jobs:
            return 0, 0
        outcomes = await asyncio.gather(*(self._attempt(job, now) for job in jobs))
        finished = await self._record(list(zip(jobs, outcomes, strict=True)), now)
        return len(jobs), finished

    async def _claim(self, now: dt.datetime) -> list[_Job]:
        t = self.table
        d = self.hooks.tables.deliveries
        s = self.hooks.tables.subscriptions
        lease = dt.timedelta(seconds=self.config.timeout * 2 + 60)
        async with self.sessionmaker() as session, session.begin():
            conn = await session.connection()
            postgres = conn.dialect.name == "postgresql"
            rows = (await conn.execute(self._due_query(now, postgres))).mappings().all()
            if not rows:
                return []
            # The lease: other dispatchers skip these rows until it ends (a crash mid-send
            # therefore means "send again later", never "lost").
            await conn.execute(update(t).where(t.c.id.in_([r["id"] for r in rows])).values(available_at=now + lease))
            wanted = [int((r["payload"] or {}).get("delivery_id") or 0) for r in rows]
            found = (
                (
                    await conn.execute(
                        select(
                            d,
                            s.c.url.label("sub_url"),
                            s.c.active.label("sub_active"),
                            s.c.secret_cipher.label("sub_secret"),
                            s.c.previous_secret_cipher.label("sub_previous_secret"),
                            s.c.previous_secret_expires_at.label("sub_previous_expires_at"),
                        )
                        .join(s, s.c.id == d.c.subscription_id)
                        .where(d.c.id.in_(wanted))
                    )
                )
                .mappings()
                .all()
            )
        by_id = {int(r["id"]): r for r in found}
        return [
            _Job(int(r["id"]), int(r["attempts"]), r["created_at"], by_id.get(delivery_id))
            for r, delivery_id in zip(rows, wanted, strict=True)
        ]

    def _secrets(self, delivery: RowMapping, now: dt.datetime) -> list[str]:
        found = [self.box.decrypt(delivery["sub_secret"], context=SECRET_CONTEXT)]
        expires = delivery["sub_previous_expires_at"]
        if delivery["sub_previous_secret"] and expires is not None and expires > now:
            found.append(self.box.decrypt(delivery["sub_previous_secret"], context=SECRET_CONTEXT))
        return found

    async def _attempt(self, job: _Job, now: dt.datetime) -> _Outcome:
        delivery = job.delivery
        if delivery is None:
            return _Outcome(skipped="missing")
        if delivery["status"] in (DeliveryStatus.DELIVERED, DeliveryStatus.CANCELLED):
            return _Outcome(skipped="done")  # e.g. two redelivery requests: send once
        if not delivery["sub_active"]:
            return _Outcome(skipped="inactive")
        sub_id = int(delivery["subscription_id"])
        gate = self._per_subscription.setdefault(sub_id, asyncio.Semaphore(self.config.per_subscription_concurrency))
        async with gate, self._slots:
            started = time.perf_counter()
            outcome = await self._post(delivery, now)
            outcome.latency_ms = int((time.perf_counter() - started) * 1000)
        return outcome

    async def _post(self, delivery: RowMapping, now: dt.datetime) -> _Outcome:
        url = str(delivery["sub_url"])
        body = encode_body(delivery["payload"])
        try:
            async with asyncio.timeout(self.config.timeout):
                # Checked again at send time: a name may have been re-pointed since.
                await check_url(
                    url,
                    allow_private=self.config.allow_private,
                    require_https=self.config.require_https,
                    resolver=self.config.resolver,
                )
                headers = sign_headers(str(delivery["event_id"]), body, self._secrets(delivery, now), self.clock())
                headers["content-type"] = "application/json"
                # Streamed and never read: a receiver cannot make us download a large body.
                async with self.http.stream("POST", url, content=body.encode(), headers=headers) as r:
                    code = r.status_code
        except TimeoutError:
            return _Outcome(error=f"timeout after {self.config.timeout:g}s")
        except UnsafeUrl as exc:
            return _Outcome(error=f"refused: {exc}")
        except httpx.HTTPError as exc:
            return _Outcome(error=f"{type(exc).__name__}: {exc}"[:500])
        except Exception as exc:  # a bad secret, a bug: log it, retry it, never stop the batch
            logger.exception("webhook delivery %s failed unexpectedly", delivery["id"])
            return _Outcome(error=f"{type(exc).__name__}"[:500])
        if 200 <= code < 300:
            return _Outcome(sent=True, status_code=code)
        reason = "redirect not followed" if 300 <= code < 400 else "non-2xx answer"
        return _Outcome(status_code=code, error=f"HTTP {code} ({reason})")

    async def _record(self, results: list[tuple[_Job, _Outcome]], now: dt.datetime) -> int:
        t = self.table
        d = self.hooks.tables.deliveries
        finished = 0
        async with self.sessionmaker() as session, session.begin():
            conn = await session.connection()
            for job, outcome in results:
                row = update(t).where(t.c.id == job.outbox_id, t.c.delivered_at.is_(None))
                delivery = job.delivery
                if outcome.skipped is not None:
                    await conn.execute(row.values(delivered_at=now))
                    if outcome.skipped == "inactive" and delivery is not None:
                        await conn.execute(
                            update(d)
                            .where(d.c.id == delivery["id"], d.c.status != DeliveryStatus.DELIVERED)
                            .values(status=DeliveryStatus.CANCELLED, next_attempt_at=None)
                        )
                    finished += 1
                    continue
                assert delivery is not None
                attempts = job.outbox_attempts + 1
                common: dict[str, Any] = {
                    "attempts": d.c.attempts + 1,
                    "response_code": outcome.status_code,
                    "latency_ms": outcome.latency_ms,
                    "last_attempt_at": now,
                }
                if outcome.sent:
                    await conn.execute(row.values(delivered_at=now, attempts=attempts, last_error=None))
                    await conn.execute(
                        update(d)
                        .where(d.c.id == delivery["id"])
                        .values(
                            status=DeliveryStatus.DELIVERED,
                            delivered_at=now,
                            next_attempt_at=None,
                            last_error=None,
                            **common,
                        )
                    )
                    finished += 1
                    continue
                deadline = job.outbox_created_at + self.config.retry_window
                error = (outcome.error or "failed")[:500]
                if attempts >= self.max_attempts or now >= deadline:
                    await conn.execute(row.values(attempts=attempts, last_error=error, dead_at=now))
                    await conn.execute(
                        update(d)
                        .where(d.c.id == delivery["id"])
                        .values(status=DeliveryStatus.DEAD, next_attempt_at=None, last_error=error, **common)
                    )
                    logger.warning(
                        "webhook delivery %s (%s) dead-lettered after %d attempts",
                        delivery["id"],
                        delivery["event_type"],
                        attempts,
                    )
                    continue
                delay = backoff_delay(attempts, base=self.base_delay, cap=self.max_delay)
                # The last try happens at the end of the window, not after it.
                retry_at = min(now + dt.timedelta(seconds=delay), deadline)
                await conn.execute(row.values(attempts=attempts, last_error=error, available_at=retry_at))
                await conn.execute(
                    update(d)
                    .where(d.c.id == delivery["id"])
                    .values(status=DeliveryStatus.RETRYING, next_attempt_at=retry_at, last_error=error, **common)
                )
        return finished


# --- HTTP routes ---------------------------------------------------------------------------


class WebhookSubscriptionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(min_length=8, max_length=2000, description="Where to POST events (https in production)")
    event_types: list[Annotated[str, Field(min_length=1, max_length=100)]] = Field(
        min_length=1, max_length=50, description="Event types to receive (see `GET …/event-types`)"
    )
    communities: list[Annotated[str, Field(min_length=1, max_length=64)]] | None = Field(
        None,
        max_length=50,
        description="Narrow to these communities (a subset of the client's); default: all the client may see",
    )
    description: str | None = Field(None, max_length=200)


class WebhookSubscriptionRead(BaseModel):
    id: int
    owner: str
    url: str
    description: str | None
    event_types: list[str]
    communities: list[str] | None = Field(description="null: every community")
    active: bool
    created_at: dt.datetime
    updated_at: dt.datetime
    deactivated_at: dt.datetime | None
    secret_rotated_at: dt.datetime | None
    previous_secret_expires_at: dt.datetime | None = Field(
        description="Until then events are also signed with the previous secret"
    )
    version: int


class WebhookSubscriptionCreated(WebhookSubscriptionRead):
    secret: str = Field(description="The signing secret (`whsec_…`): shown only in this response")


class WebhookSecretRotate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    overlap_hours: float = Field(
        24, ge=0, le=168, description="How long the old secret keeps signing alongside the new one"
    )


class WebhookDeliveryRead(BaseModel):
    id: int
    event_id: str = Field(description="The `webhook-id` header: the same on every attempt")
    event_type: str
    subscription_id: int
    resource: str
    status: str = Field(description=" | ".join(DeliveryStatus.ALL))
    attempts: int
    response_code: int | None
    latency_ms: int | None
    last_error: str | None
    next_attempt_at: dt.datetime | None
    last_attempt_at: dt.datetime | None
    delivered_at: dt.datetime | None
    created_at: dt.datetime
    payload: dict[str, Any] = Field(description="The JSON body sent")


class WebhookEventTypeRead(BaseModel):
    type: str
    description: str
    scopes: list[str] = Field(description="A client holding any of these may subscribe")
    example: dict[str, Any]


class WebhookProblem(BaseModel):
    """RFC 9457 problem details, as every error is rendered."""

    type: str
    title: str
    status: int
    code: str
    detail: str
    instance: str | None = None
    errors: list[dict[str, str]] | None = None


_PROBLEM_TEXT = {
    401: "Unauthorized",
    403: "Forbidden: not a client with a read scope of these events, nor a webhooks manager",
    404: "No such subscription or delivery (or another client's)",
    409: "Conflict (limit reached, or changed concurrently)",
    412: "Stale If-Match",
    422: "Invalid input (an unsafe URL, an unknown event type …), naming the field",
}


def _problems(*codes: int) -> dict[int | str, dict[str, Any]]:
    return {
        code: {
            "description": _PROBLEM_TEXT[code],
            "model": WebhookProblem,
            "content": {"application/problem+json": {}},
        }
        for code in sorted({401, 403, 422, *codes})
    }


def _subscription_read(row: RowMapping) -> WebhookSubscriptionRead:
    return WebhookSubscriptionRead(
        id=row["id"],
        owner=row["owner"],
        url=row["url"],
        description=row["description"],
        event_types=list(row["event_types"] or []),
        communities=list(row["communities"]) if row["communities"] is not None else None,
        active=row["active"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        deactivated_at=row["deactivated_at"],
        secret_rotated_at=row["secret_rotated_at"],
        previous_secret_expires_at=row["previous_secret_expires_at"],
        version=row["version"],
    )


def _delivery_read(row: RowMapping) -> WebhookDeliveryRead:
    return WebhookDeliveryRead.model_validate({k: row[k] for k in WebhookDeliveryRead.model_fields})


def _etag(row: RowMapping) -> str:
    return etag_of("webhook_subscription", row["id"], row["version"])


def _caller_dependency(hooks: Webhooks) -> Callable[..., Awaitable[Principal]]:
    """Who may use the routes: county admins (``webhooks:manage``: every subscription) and
    machine clients holding any read scope of this service's events (their own only)."""

    async def webhook_caller(principal: CurrentPrincipal) -> Principal:
        if principal.has(Permission.WEBHOOKS_MANAGE):
            return principal
        if principal.kind == "client" and principal.scopes & hooks.scopes:
            return principal
        raise Forbidden(
            "Webhooks are for machine clients holding a read scope of these events "
            f"({', '.join(sorted(hooks.scopes))}) and for holders of webhooks:manage.",
            code="missing_permission",
        )

    webhook_caller.__doorstep_permissions__ = (  # type: ignore[attr-defined]
        Permission.WEBHOOKS_MANAGE.value,
        *sorted(hooks.scopes),
    )
    return webhook_caller


def _owner_filter(principal: Principal) -> str | None:
    return None if principal.has(Permission.WEBHOOKS_MANAGE) else principal.subject


async def _request_time() -> dt.datetime:
    return utcnow()


def webhooks_router(
    prefix: str,
    *,
    hooks: Webhooks,
    get_box: Callable[..., SecretBox | Awaitable[SecretBox]],
    get_config: Callable[..., WebhookConfig | Awaitable[WebhookConfig]],
    get_now: Callable[..., dt.datetime | Awaitable[dt.datetime]] = _request_time,
    tags: Sequence[str] = ("webhooks",),
) -> APIRouter:
    """The subscription routes, mounted under ``prefix`` (e.g. ``/api/v1/stations/webhooks``).

    ``get_box``, ``get_config`` and ``get_now`` are FastAPI dependencies (so a service passes
    e.g. ``request.app.state``-readers and its overridable clock)."""
    router = APIRouter(prefix=prefix, tags=list(tags), dependencies=[Depends(current_principal)])
    caller = Annotated[Principal, Depends(_caller_dependency(hooks))]
    box_dep = Annotated[SecretBox, Depends(get_box)]
    config_dep = Annotated[WebhookConfig, Depends(get_config)]
    now_dep = Annotated[dt.datetime, Depends(get_now)]
    sub_id = Annotated[int, Path(ge=1, le=2**62)]
    op = hooks.service + "_webhooks_"

    async def _subscription(session: Any, principal: Principal, subscription_id: int) -> RowMapping:
        return await hooks.get_subscription(session, subscription_id, _owner_filter(principal))

    @router.get(
        "/event-types",
        response_model=list[WebhookEventTypeRead],
        summary="The events this service publishes, with example payloads",
        operation_id=op + "event_types",
        responses=_problems(),
    )
    async def event_types(principal: caller) -> list[WebhookEventTypeRead]:
        return [
            WebhookEventTypeRead(type=e.name, description=e.description, scopes=list(e.scopes), example=dict(e.example))
            for e in hooks.events.values()
        ]

    @router.post(
        "/subscriptions",
        response_model=WebhookSubscriptionCreated,
        status_code=201,
        summary="Subscribe a URL to events; the signing secret is returned only here",
        operation_id=op + "create_subscription",
        responses=_problems(409, 422),
    )
    async def create_subscription(
        session: DbSession,
        principal: caller,
        box: box_dep,
        config: config_dep,
        now: now_dep,
        body: WebhookSubscriptionCreate,
        response: Response,
    ) -> WebhookSubscriptionCreated:
        if principal.kind != "client":
            raise Forbidden("Only machine clients subscribe (with their own credentials).", code="clients_only")
        for i, name in enumerate(body.event_types):
            event = hooks.events.get(name)
            if event is None:
                raise Invalid.field(f"body.event_types.{i}", f"unknown event type {name!r}", code="unknown_event_type")
            if not principal.scopes & set(event.scopes):
                raise Forbidden(
                    f"Subscribing to {name} needs one of the scopes {', '.join(event.scopes)}.",
                    code="event_not_permitted",
                )
        visible = principal.visible_communities
        communities: list[str] | None = None
        if body.communities is not None:
            outside = sorted(set(body.communities) - visible) if visible is not None else []
            if outside:
                raise Invalid.field("body.communities", f"not among the client's communities: {', '.join(outside)}")
            communities = list(body.communities)
        elif visible is not None:
            communities = sorted(visible)
        try:
            await check_url(
                body.url,
                allow_private=config.allow_private,
                require_https=config.require_https,
                resolver=config.resolver,
            )
        except UnsafeUrl as exc:
            raise Invalid.field("body.url", str(exc), code=exc.code) from exc
        row, secret = await hooks.create_subscription(
            session,
            box,
            owner=principal.subject,
            url=body.url,
            event_types=body.event_types,
            communities=communities,
            description=body.description,
            now=now,
            max_per_owner=config.max_subscriptions_per_owner,
        )
        response.headers["ETag"] = _etag(row)
        response.headers["Cache-Control"] = "no-store"
        return WebhookSubscriptionCreated(**_subscription_read(row).model_dump(), secret=secret)

    @router.get(
        "/subscriptions",
        response_model=Page[WebhookSubscriptionRead],
        summary="Your subscriptions (every one for webhooks:manage), oldest first",
        operation_id=op + "list_subscriptions",
        responses=_problems(422),
    )
    async def list_subscriptions(
        session: DbSession, principal: caller, cursor: CursorParam = None, limit: LimitParam = 50
    ) -> Page[WebhookSubscriptionRead]:
        values = decode_cursor(cursor, 1)
        after = int(values[0]) if values and isinstance(values[0], int) else None
        rows = await hooks.list_subscriptions(session, _owner_filter(principal), after, limit)
        more = len(rows) > limit
        rows = rows[:limit]
        return Page(
            items=[_subscription_read(r) for r in rows],
            next_cursor=encode_cursor([rows[-1]["id"]]) if more and rows else None,
        )

    @router.get(
        "/subscriptions/{subscription_id}",
        response_model=WebhookSubscriptionRead,
        summary="One subscription (never its secret)",
        operation_id=op + "get_subscription",
        responses=_problems(404),
    )
    async def get_subscription(
        session: DbSession, principal: caller, subscription_id: sub_id, response: Response
    ) -> WebhookSubscriptionRead:
        row = await _subscription(session, principal, subscription_id)
        response.headers["ETag"] = _etag(row)
        return _subscription_read(row)

    @router.post(
        "/subscriptions/{subscription_id}/rotate-secret",
        response_model=WebhookSubscriptionCreated,
        summary="New signing secret (returned once); the old one keeps signing for the overlap",
        operation_id=op + "rotate_secret",
        responses=_problems(404, 409, 412, 422),
    )
    async def rotate_secret(
        request: Request,
        session: DbSession,
        principal: caller,
        box: box_dep,
        now: now_dep,
        subscription_id: sub_id,
        response: Response,
        body: WebhookSecretRotate | None = None,
    ) -> WebhookSubscriptionCreated:
        row = await _subscription(session, principal, subscription_id)
        check_if_match(request, _etag(row))
        overlap = dt.timedelta(hours=(body or WebhookSecretRotate()).overlap_hours)
        row, secret = await hooks.rotate_secret(session, box, row, overlap, now)
        response.headers["ETag"] = _etag(row)
        response.headers["Cache-Control"] = "no-store"
        return WebhookSubscriptionCreated(**_subscription_read(row).model_dump(), secret=secret)

    @router.post(
        "/subscriptions/{subscription_id}/deactivate",
        response_model=WebhookSubscriptionRead,
        summary="Stop sending to this subscription; queued deliveries are cancelled",
        operation_id=op + "deactivate_subscription",
        responses=_problems(404, 412),
    )
    async def deactivate(
        request: Request,
        session: DbSession,
        principal: caller,
        now: now_dep,
        subscription_id: sub_id,
        response: Response,
    ) -> WebhookSubscriptionRead:
        row = await _subscription(session, principal, subscription_id)
        check_if_match(request, _etag(row))
        row = await hooks.deactivate(session, row, now)
        response.headers["ETag"] = _etag(row)
        return _subscription_read(row)

    @router.post(
        "/subscriptions/{subscription_id}/ping",
        response_model=WebhookDeliveryRead,
        status_code=202,
        summary="Queue a `webhook.ping` test event to this subscription",
        operation_id=op + "ping",
        responses=_problems(404, 409),
    )
    async def ping(session: DbSession, principal: caller, now: now_dep, subscription_id: sub_id) -> WebhookDeliveryRead:
        row = await _subscription(session, principal, subscription_id)
        if not row["active"]:
            raise Conflict("The subscription is deactivated.", code="subscription_inactive")
        return _delivery_read(await hooks.ping(session, row, now))

    @router.get(
        "/subscriptions/{subscription_id}/deliveries",
        response_model=Page[WebhookDeliveryRead],
        summary="The delivery log of a subscription, newest first",
        operation_id=op + "list_deliveries",
        responses=_problems(404, 422),
    )
    async def list_deliveries(
        session: DbSession,
        principal: caller,
        subscription_id: sub_id,
        status: Annotated[
            list[str] | None,
            Query(max_length=5, description=" | ".join(DeliveryStatus.ALL)),
        ] = None,
        cursor: CursorParam = None,
        limit: LimitParam = 50,
    ) -> Page[WebhookDeliveryRead]:
        for i, s in enumerate(status or []):
            if s not in DeliveryStatus.ALL:
                raise Invalid.field(f"query.status.{i}", f"one of {', '.join(DeliveryStatus.ALL)}")
        await _subscription(session, principal, subscription_id)
        values = decode_cursor(cursor, 1)
        before = int(values[0]) if values and isinstance(values[0], int) else None
        rows = await hooks.list_deliveries(session, subscription_id, status, before, limit)
        more = len(rows) > limit
        rows = rows[:limit]
        return Page(
            items=[_delivery_read(r) for r in rows],
            next_cursor=encode_cursor([rows[-1]["id"]]) if more and rows else None,
        )

    @router.get(
        "/subscriptions/{subscription_id}/deliveries/{delivery_id}",
        response_model=WebhookDeliveryRead,
        summary="One delivery: attempts, last answer, next attempt, the body sent",
        operation_id=op + "get_delivery",
        responses=_problems(404),
    )
    async def get_delivery(
        session: DbSession, principal: caller, subscription_id: sub_id, delivery_id: sub_id
    ) -> WebhookDeliveryRead:
        await _subscription(session, principal, subscription_id)
        return _delivery_read(await hooks.get_delivery(session, subscription_id, delivery_id))

    @router.post(
        "/subscriptions/{subscription_id}/deliveries/{delivery_id}/redeliver",
        response_model=WebhookDeliveryRead,
        status_code=202,
        summary="Send a delivery again (same webhook-id), e.g. a dead-lettered one",
        operation_id=op + "redeliver",
        responses=_problems(404, 409),
    )
    async def redeliver(
        session: DbSession, principal: caller, now: now_dep, subscription_id: sub_id, delivery_id: sub_id
    ) -> WebhookDeliveryRead:
        row = await _subscription(session, principal, subscription_id)
        if not row["active"]:
            raise Conflict("The subscription is deactivated.", code="subscription_inactive")
        delivery = await hooks.get_delivery(session, subscription_id, delivery_id)
        return _delivery_read(await hooks.redeliver(session, delivery, now))

    return router
