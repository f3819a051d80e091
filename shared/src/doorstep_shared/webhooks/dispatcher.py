"""The webhook dispatcher: delivers a service's webhook outbox to the receivers.

Each event is POSTed as JSON, signed per Standard Webhooks (``webhook-id`` = the event id, the
same on every retry; ``webhook-timestamp``; ``webhook-signature`` with one ``v1,<base64>`` entry
per valid secret, so receivers verify during a rotation). Failures are retried with exponential
back-off and jitter for ``retry_window`` (a day), then dead-lettered; the delivery log keeps
every outcome. Events of one resource reach one subscription in order (the outbox key is
``sub:<id>:<resource>``), and a 2xx answer marks the delivery done once.

Unlike a plain outbox handler, the dispatcher does not hold the claiming transaction open while
it talks to receivers: it leases the due rows (pushes ``available_at`` past the send timeout),
commits, sends concurrently (bounded overall and per subscription, each POST under a hard
deadline), then records the outcomes in a second transaction. A slow or dead receiver therefore
never holds database locks (on SQLite that lock would stall every write of the service), and a
crash between sending and recording only means the event is sent again after the lease, with
the same ``webhook-id`` for the receiver to de-duplicate.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy import select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession as SAAsyncSession
from sqlalchemy.ext.asyncio import async_sessionmaker

from ..clock import utcnow
from ..db.outbox import OutboxMessage, OutboxWorker, backoff_delay
from .publisher import Webhooks
from .settings import WebhookConfig
from .signing import SECRET_CONTEXT, SecretBox, encode_body, sign_headers
from .tables import DeliveryStatus
from .urls import UnsafeUrl, check_url

logger = logging.getLogger("doorstep.webhooks")

USER_AGENT = "Doorstep-Webhooks/1"


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
