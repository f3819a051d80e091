"""The proxy's webhook store (subscriptions, deliveries, their outbox: docs/webhooks.md) and the
publishing of its events, in the transaction of the change.

Each helper builds a payload of ids, codes, statuses and times (never a name, a phone or the
demand's text or answer) and calls ``hooks.publish``, which queues one delivery per matching
subscription; the dispatcher (``doorstep_shared.webhooks.WebhookDispatcher``, started in the
app's lifespan) sends them.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from doorstep_shared.clock import utcnow
from doorstep_shared.webhooks import Webhooks

from ..cases.models import ProxyCase
from ..db import metadata
from ..demands.models import Demand
from .types import EVENT_TYPES

# Webhook subscriptions, deliveries and their outbox, in the proxy's MetaData.
hooks = Webhooks(metadata, service="proxy", events=EVENT_TYPES)


def _iso(value: dt.datetime | None) -> str | None:
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z") if value else None


def _str(value: Any) -> str | None:
    return str(value) if value is not None else None


async def demand_created(session: AsyncSession, demand: Demand) -> None:
    """``demand.created``, then ``demand.answered`` when it was logged with its answer."""
    payload: dict[str, Any] = {
        "demand_id": str(demand.id),
        "community": demand.community,
        "channel": demand.channel,
        "kind": demand.kind,
        "item_code": demand.item_code,
        "status": demand.status,
        "external_ref": demand.external_ref,
        "source_client": demand.source_client,
        "created_at": _iso(demand.created_at),
    }
    key = f"demand:{demand.id}"
    await hooks.publish(session, "demand.created", key, demand.community, payload, now=demand.created_at)
    if demand.status == "answered":
        await demand_answered(session, demand)


async def demand_answered(session: AsyncSession, demand: Demand) -> None:
    """``demand.answered`` (the answer itself is not sent: read the demand through the API)."""
    payload: dict[str, Any] = {
        "demand_id": str(demand.id),
        "community": demand.community,
        "status": demand.status,
        "external_ref": demand.external_ref,
        "answered_at": _iso(demand.answered_at),
    }
    now = demand.answered_at or utcnow()
    await hooks.publish(session, "demand.answered", f"demand:{demand.id}", demand.community, payload, now=now)


async def case_moved(session: AsyncSession, case: ProxyCase, previous: str, to: str, now: dt.datetime) -> None:
    """``case.status_changed``; when the case was decided, ``case.completed`` right after it."""
    key = f"case:{case.id}"
    payload: dict[str, Any] = {
        "case_id": str(case.id),
        "community": case.community,
        "item_code": case.item_code,
        "from": previous,
        "to": to,
        "demand_id": _str(case.demand_id),
        "at": _iso(now),
    }
    await hooks.publish(session, "case.status_changed", key, case.community, payload, now=now)
    if to in ("approved", "rejected"):
        completed: dict[str, Any] = {
            "case_id": str(case.id),
            "community": case.community,
            "item_code": case.item_code,
            "decision": to,
            "demand_id": _str(case.demand_id),
            "decided_at": _iso(case.decided_at or now),
        }
        await hooks.publish(session, "case.completed", key, case.community, completed, now=now)
