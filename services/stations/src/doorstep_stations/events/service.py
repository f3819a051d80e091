"""Publishing stations events to webhook subscribers, in the transaction of the change.

Each helper builds a payload of ids, codes, statuses and times (never a name or a phone) and
calls ``hooks.publish``, which queues one delivery per matching subscription; the dispatcher
(``doorstep_shared.webhooks.WebhookDispatcher``, started in the app's lifespan) sends them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from ..bookings.models import Booking, ServiceSession
from ..stations import service as stations_service
from ..tickets.models import DropOffTicket
from .models import hooks


def _iso(value: dt.datetime | None) -> str | None:
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z") if value else None


async def _station_code(session: AsyncSession, station_id: int) -> str | None:
    station = await stations_service.station_by_id(session, station_id)
    return station.code if station else None


async def ticket_event(session: AsyncSession, event_type: str, ticket: DropOffTicket, now: dt.datetime) -> None:
    """``ticket.ready`` / ``ticket.collected``."""
    payload: dict[str, Any] = {
        "ticket_id": ticket.id,
        "number": ticket.number,
        "station": await _station_code(session, ticket.station_id),
        "community": ticket.community,
        "status": ticket.status,
    }
    if event_type == "ticket.ready":
        payload["ready_at"] = _iso(ticket.ready_at or now)
    else:
        payload["collected_at"] = _iso(ticket.closed_at or now)
    await hooks.publish(session, event_type, f"ticket:{ticket.id}", ticket.community, payload, now=now)


async def booking_event(
    session: AsyncSession,
    event_type: str,
    booking: Booking,
    s: ServiceSession,
    now: dt.datetime,
    *,
    previous_status: str | None = None,
) -> None:
    """``booking.cancelled`` / ``booking.promoted`` (``s``: the booking's session)."""
    payload: dict[str, Any] = {
        "booking_id": booking.id,
        "session_id": booking.session_id,
        "station": await _station_code(session, booking.station_id),
        "community": booking.community,
        "seats": booking.seats,
        "status": booking.status,
        "session_starts_at": _iso(s.starts_at),
        "at": _iso(now),
    }
    if previous_status is not None:
        payload["previous_status"] = previous_status
    await hooks.publish(session, event_type, f"booking:{booking.id}", booking.community, payload, now=now)


async def session_cancelled(
    session: AsyncSession,
    s: ServiceSession,
    cancelled_bookings: Sequence[int],
    now: dt.datetime,
    *,
    reason: str | None,
    below_minimum: bool,
) -> None:
    """``session.cancelled``: one event for the session, listing the bookings it cancelled."""
    payload: dict[str, Any] = {
        "session_id": s.id,
        "station": await _station_code(session, s.station_id),
        "service": await stations_service.service_code(session, s.service_id),
        "community": s.community,
        "title": s.title,
        "starts_at": _iso(s.starts_at),
        "reason": reason,
        "below_minimum": below_minimum,
        "cancelled_bookings": list(cancelled_bookings),
    }
    await hooks.publish(session, "session.cancelled", f"session:{s.id}", s.community, payload, now=now)
