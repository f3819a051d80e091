"""Every query over the webhook tables: subscriptions, deliveries and their outbox rows.

Tenancy: a machine client sees only its own subscriptions (``owner``); ``owner=None`` is for
holders of ``webhooks:manage``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession as SAAsyncSession

from ..db.outbox import enqueue
from ..http.errors import Conflict, NotFound
from .signing import SECRET_CONTEXT, SecretBox, new_secret
from .tables import DeliveryStatus, WebhookTables


class WebhookStore:
    """The webhook tables of one service and the statements over them."""

    def __init__(self, tables: WebhookTables) -> None:
        self.tables = tables

    async def active_subscriptions(self, session: SAAsyncSession) -> list[tuple[int, list[str], list[str] | None]]:
        """(id, event types, communities or None for all) of every active subscription, oldest first."""
        s = self.tables.subscriptions
        conn = await session.connection()
        rows = (
            await conn.execute(
                select(s.c.id, s.c.event_types, s.c.communities).where(s.c.active.is_(True)).order_by(s.c.id)
            )
        ).all()
        return [(int(sub_id), list(event_types or ()), communities) for sub_id, event_types, communities in rows]

    async def queue_delivery(
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
        await self.enqueue_delivery(session, subscription_id, delivery_id, envelope, now)
        return delivery_id

    async def enqueue_delivery(
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
        await self.enqueue_delivery(
            session, int(delivery["subscription_id"]), int(delivery["id"]), delivery["payload"], now
        )
        return await self.get_delivery(session, int(delivery["subscription_id"]), int(delivery["id"]))
