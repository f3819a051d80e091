"""Publishing: a service's event catalogue and the same-transaction fan-out of its events.

Service code calls ``await hooks.publish(session, "ticket.ready", f"ticket:{id}", community,
payload)`` in the transaction that makes the change. It writes one delivery row and one outbox
row per matching active subscription (event type subscribed, community visible to the client),
so an event exists if and only if the change committed.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import MetaData
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession as SAAsyncSession

from ..clock import utcnow
from ..pii import redact_json
from .store import WebhookStore
from .tables import make_webhook_tables

PING = "webhook.ping"


@dataclass(frozen=True)
class EventType:
    """An event a service publishes, and the client scopes that may subscribe to it."""

    name: str
    scopes: tuple[str, ...]
    description: str = ""
    example: Mapping[str, Any] = field(default_factory=dict)


def new_event_id() -> str:
    return f"msg_{uuid.uuid4().hex}"


class Webhooks(WebhookStore):
    """One service's webhooks: its tables, its event catalogue, publishing and management."""

    def __init__(self, metadata: MetaData, *, service: str, events: Iterable[EventType]) -> None:
        super().__init__(make_webhook_tables(metadata))
        self.service = service
        self.events: dict[str, EventType] = {e.name: e for e in events}
        self.scopes: frozenset[str] = frozenset(s for e in self.events.values() for s in e.scopes)

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
        for sub_id, event_types, communities in await self.active_subscriptions(session):
            if event_type not in event_types:
                continue
            if communities is not None and community not in communities:
                continue
            await self.queue_delivery(session, sub_id, envelope, now)
        return event_id

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
        delivery_id = await self.queue_delivery(session, int(subscription["id"]), envelope, now)
        return await self.get_delivery(session, int(subscription["id"]), delivery_id)

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
            # Payloads carry ids and codes by design; a free-text field (a cancellation reason)
            # leaves with its phone and ID numbers masked all the same.
            "data": redact_json(dict(data)),
        }
