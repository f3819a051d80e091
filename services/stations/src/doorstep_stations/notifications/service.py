"""Notifications to residents: queued in the outbox with the change, sent by the worker.

Topics: ``ticket.ready``, ``ticket.returned`` (composed by ``tickets.service``),
``booking.promoted``, ``booking.cancelled``, ``session.cancelled``, ``session.reminder``
(composed by ``bookings.service``). Payloads carry ids and the community, never a phone or a
name: the composer looks the recipient up (and decrypts the phone) only when it sends.

A real SMS gateway is another :class:`Notifier` (see the README): ``send`` posts the message
with ``message.outbox_id`` as the idempotency key and raises on failure, so the worker retries
with back-off.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession as SAAsyncSession
from sqlmodel.ext.asyncio.session import AsyncSession

from doorstep_shared.auth.tokens import Principal
from doorstep_shared.db.outbox import Handler, OutboxMessage, enqueue
from doorstep_shared.http.pagination import cursor_int, read_cursor
from doorstep_shared.pii import mask_phone

from ..bookings.models import Booking
from ..stations import service as stations_service
from ..tickets.models import DropOffTicket
from . import repository as repo
from .models import Notification, outbox
from .schemas import NotificationRead

logger = logging.getLogger("doorstep.stations.notify")


@dataclass(frozen=True)
class OutgoingMessage:
    outbox_id: int
    kind: str
    phone: str  # plain; an adapter must never log it unmasked
    text: str
    community: str
    station_id: int | None
    extra: dict[str, Any]


class Notifier(Protocol):
    """Delivers one message. Raise to have the worker retry later."""

    channel: str

    async def send(self, session: AsyncSession, message: OutgoingMessage) -> None: ...


class LogNotifier:
    """Development notifier: writes the message to the log (phone masked) and a table."""

    channel = "log"

    async def send(self, session: AsyncSession, message: OutgoingMessage) -> None:
        masked = mask_phone(message.phone) or ""
        logger.info("notify %s → %s: %s", message.kind, masked, message.text)
        session.add(
            Notification(
                outbox_id=message.outbox_id,
                station_id=message.station_id,
                community=message.community,
                kind=message.kind,
                channel=self.channel,
                recipient_masked=masked,
                text=message.text[:500],
                extra=message.extra,
            )
        )
        await session.flush()


async def queue(session: AsyncSession, topic: str, key: str, payload: dict[str, Any], **kwargs: Any) -> None:
    """Queue a message in the caller's transaction."""
    await enqueue(session, outbox, topic, key, payload, **kwargs)


async def queue_booking(session: AsyncSession, topic: str, booking: Booking, **extra: Any) -> None:
    await queue(
        session,
        topic,
        f"booking:{booking.id}",
        {
            "booking_id": booking.id,
            "session_id": booking.session_id,
            "station_id": booking.station_id,
            "community": booking.community,
            "status": booking.status,
            **extra,
        },
    )


async def queue_ticket(session: AsyncSession, topic: str, ticket: DropOffTicket) -> None:
    await queue(
        session,
        topic,
        f"ticket:{ticket.id}",
        {
            "ticket_id": ticket.id,
            "station_id": ticket.station_id,
            "community": ticket.community,
            "status": ticket.status,
            "number": ticket.number,
        },
    )


async def sender_name(session: AsyncSession, payload: dict[str, Any]) -> str:
    """Who a message is from: the station of the payload (a generic name if it is gone)."""
    station = await stations_service.station_by_id(session, int(payload.get("station_id") or 0))
    return station.name if station else "党群驿站"


# The message an outbox row stands for, or None when there is nothing to send.
Composer = Callable[[AsyncSession, OutboxMessage], Awaitable[OutgoingMessage | None]]


def make_handler(notifier: Notifier, compose: Composer) -> Handler:
    """The outbox handler: compose the message for a topic and send it, at most once per row."""

    async def handle(session: SAAsyncSession, message: OutboxMessage) -> None:
        assert isinstance(session, AsyncSession)
        if await repo.notification_exists(session, message.id):
            return
        outgoing = await compose(session, message)
        if outgoing is None:
            return  # not a resident-facing topic, or the record is gone
        await notifier.send(session, outgoing)

    return handle


async def list_notifications(
    session: AsyncSession, principal: Principal, station_code: str | None, *, cursor: str | None, limit: int
) -> tuple[list[NotificationRead], int | None]:
    """Newest first, of the communities the caller sees; the last id when there is more."""
    station_id = None
    if station_code:
        station_id = (await stations_service.get_station(session, station_code)).id
    values = read_cursor(cursor, cursor_int)
    before = values[0] if values else None
    rows = list(
        await repo.list_notifications(
            session,
            principal.visible_communities,
            station_id=station_id,
            before_id=before,
            limit=limit,
        )
    )
    more = len(rows) > limit
    rows = rows[:limit]
    stations = await stations_service.stations_by_ids(session, {n.station_id for n in rows if n.station_id})
    codes = {s.id: s.code for s in stations.values()}
    items = [
        NotificationRead(
            id=n.id or 0,
            station_code=codes.get(n.station_id),
            community=n.community,
            kind=n.kind,
            channel=n.channel,
            recipient=n.recipient_masked,
            text=n.text,
            created_at=n.created_at,
        )
        for n in rows
    ]
    return items, (rows[-1].id if more and rows else None)
