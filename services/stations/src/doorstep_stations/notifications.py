"""Notifications to residents: queued in the outbox with the change, sent by the worker.

Topics (also the event types a webhook dispatcher can forward): ``ticket.ready``,
``ticket.returned``, ``booking.promoted``, ``booking.cancelled``, ``session.cancelled``,
``session.reminder``. Payloads carry ids and the community, never a phone or a name: the
handler looks the recipient up (and decrypts the phone) only when it sends.

A real SMS gateway is another :class:`Notifier` (see the README): ``send`` posts the message
with ``message.outbox_id`` as the idempotency key and raises on failure, so the worker retries
with back-off.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession as SAAsyncSession
from sqlmodel.ext.asyncio.session import AsyncSession

from doorstep_shared.clock import to_local
from doorstep_shared.outbox import OutboxMessage, enqueue
from doorstep_shared.pii import PiiCipher, mask_phone

from . import repository as repo
from .models import Booking, DropOffTicket, Notification, ServiceSession, outbox

logger = logging.getLogger("doorstep.stations.notify")

PHONE_CONTEXT = "phone"


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


def _when(s: ServiceSession) -> str:
    return to_local(s.starts_at).strftime("%m月%d日 %H:%M")


async def _compose(session: AsyncSession, cipher: PiiCipher, message: OutboxMessage) -> OutgoingMessage | None:
    p = message.payload
    station = await repo.station_by_id(session, int(p.get("station_id") or 0))
    station_name = station.name if station else "党群驿站"
    if message.topic.startswith("ticket."):
        ticket = await repo.ticket_by_id(session, int(p["ticket_id"]), None)
        if ticket is None:
            return None
        phone = cipher.decrypt(ticket.phone_cipher, context=PHONE_CONTEXT)
        if message.topic == "ticket.ready":
            text = (
                f"【{station_name}】您寄存的{ticket.item}已处理好（票号{ticket.number}），"
                "请凭取件码或手机尾号到驿站领取。"
            )
        else:
            text = (
                f"【{station_name}】您寄存的{ticket.item}（票号{ticket.number}）未能处理："
                f"{ticket.return_reason or ''}，请到驿站取回。"
            )
        return OutgoingMessage(
            message.id,
            message.topic,
            phone,
            text,
            ticket.community,
            ticket.station_id,
            {"ticket_id": ticket.id},
        )
    booking = await repo.booking_by_id(session, int(p["booking_id"]), None)
    if booking is None:
        return None
    sess = await repo.session_by_id(session, booking.session_id)
    if sess is None:
        return None
    phone = cipher.decrypt(booking.phone_cipher, context=PHONE_CONTEXT)
    title = sess.title or "活动"
    texts = {
        "booking.promoted": f"【{station_name}】候补成功：{_when(sess)}「{title}」为您保留{booking.seats}个座位。",
        "booking.cancelled": f"【{station_name}】您已取消{_when(sess)}「{title}」的预约。",
        "session.cancelled": f"【{station_name}】很抱歉，{_when(sess)}「{title}」已取消"
        + (f"（{sess.cancel_reason}）" if sess.cancel_reason else "")
        + "。",
        "session.reminder": f"【{station_name}】提醒：明天{_when(sess)}「{title}」，您预约了{booking.seats}个座位。",
    }
    if message.topic not in texts:
        return None
    text = texts[message.topic]
    return OutgoingMessage(
        message.id,
        message.topic,
        phone,
        text,
        booking.community,
        booking.station_id,
        {"booking_id": booking.id, "session_id": sess.id},
    )


def make_handler(notifier: Notifier, cipher: PiiCipher) -> Any:
    """The outbox handler: compose the message for a topic and send it, at most once per row."""

    async def handle(session: SAAsyncSession, message: OutboxMessage) -> None:
        assert isinstance(session, AsyncSession)
        if await repo.notification_exists(session, message.id):
            return
        outgoing = await _compose(session, cipher, message)
        if outgoing is None:
            return  # not a resident-facing topic, or the record is gone
        await notifier.send(session, outgoing)

    return handle
