"""Sessions, bookings and the waitlist.

A seat is taken by one conditional UPDATE (``booked + n <= capacity``): on PostgreSQL the
row lock it takes serialises concurrent bookers of one session and the condition is
re-checked after the lock; on SQLite the write transaction (BEGIN IMMEDIATE) does the same.
A booking that does not get its seats joins the waitlist. When seats free up, waitlisted
bookings are promoted in arrival order; a booking that needs more seats than are free keeps
its place, and a later one that fits is promoted meanwhile (so no seat stays empty while
someone who fits waits).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from doorstep_shared.auth.tokens import Principal
from doorstep_shared.clock import to_local
from doorstep_shared.db.outbox import OutboxMessage
from doorstep_shared.http.errors import Conflict, Invalid, NotFound
from doorstep_shared.pii import PiiCipher, mask_name, redact_text

from ..events import service as events_service
from ..notifications import service as notifications_service
from ..notifications.service import OutgoingMessage
from ..phones import read_phone, store_phone, validate_phone
from ..stations import service as stations_service
from ..stations.models import ServiceKind, Station, StationService
from ..tenancy import ensure_manage, ensure_sees
from . import repository as repo
from .models import Booking, BookingStatus, ServiceSession, SessionStatus
from .schemas import BookingCreate, BookingRead, SessionCreate, SessionRead

CHECK_IN_EARLY = dt.timedelta(hours=1)


def session_read(s: ServiceSession, station: Station, svc: StationService) -> SessionRead:
    return SessionRead(
        id=s.id or 0,
        station_code=station.code,
        service_code=svc.code,
        service_kind=ServiceKind(svc.kind),
        title=s.title,
        starts_at=s.starts_at,
        ends_at=s.ends_at,
        capacity=s.capacity,
        booked=s.booked,
        available=max(0, s.capacity - s.booked),
        min_participants=s.min_participants,
        min_cutoff_at=s.min_cutoff_at,
        booking_opens_at=s.booking_opens_at,
        booking_closes_at=s.booking_closes_at,
        cancel_cutoff_at=s.cancel_cutoff_at,
        max_seats_per_booking=s.max_seats_per_booking,
        status=SessionStatus(s.status),
        cancel_reason=s.cancel_reason,
        version=s.version,
    )


def booking_read(b: Booking, station_code: str, waitlist_position: int | None = None) -> BookingRead:
    return BookingRead(
        id=b.id or 0,
        session_id=b.session_id,
        station_code=station_code,
        name=mask_name(b.name) or "",
        phone=b.phone_masked,
        resident_id=b.resident_id,
        seats=b.seats,
        status=BookingStatus(b.status),
        waitlist_position=waitlist_position,
        booked_by=b.booked_by,
        created_at=b.created_at,
        promoted_at=b.promoted_at,
        cancelled_at=b.cancelled_at,
        checked_in_at=b.checked_in_at,
        version=b.version,
    )


async def booking_reads(session: AsyncSession, bookings: Sequence[Booking], station_code: str) -> list[BookingRead]:
    """Bookings with their place on the waitlist (one query for all, none if nobody waits)."""
    waiting = {b.session_id for b in bookings if b.status == BookingStatus.WAITLISTED}
    order = await repo.waitlist_order(session, waiting) if waiting else {}
    places = {bid: n for ids in order.values() for n, bid in enumerate(ids, start=1)}
    return [
        booking_read(b, station_code, places.get(b.id or 0) if b.status == BookingStatus.WAITLISTED else None)
        for b in bookings
    ]


def session_item(row: Any, station_code: str, service_code: str, service_kind: str) -> dict[str, Any]:
    """A session as ``SessionRead`` shows it, as a plain dict: its fields in its order, the values
    as its serialisers write them (the statuses as their strings, the cancel reason redacted).
    ``row`` is a row of ``repo.SESSION_READ_COLUMNS`` (or a ``ServiceSession``)."""
    return {
        "id": row.id or 0,
        "station_code": station_code,
        "service_code": service_code,
        "service_kind": service_kind,
        "title": row.title,
        "starts_at": row.starts_at,
        "ends_at": row.ends_at,
        "capacity": row.capacity,
        "booked": row.booked,
        "available": max(0, row.capacity - row.booked),
        "min_participants": row.min_participants,
        "min_cutoff_at": row.min_cutoff_at,
        "booking_opens_at": row.booking_opens_at,
        "booking_closes_at": row.booking_closes_at,
        "cancel_cutoff_at": row.cancel_cutoff_at,
        "max_seats_per_booking": row.max_seats_per_booking,
        "status": row.status,
        "cancel_reason": None if row.cancel_reason is None else redact_text(row.cancel_reason),
        "version": row.version,
    }


def booking_item(row: Any, station_code: str, waitlist_position: int | None) -> dict[str, Any]:
    """A booking as ``BookingRead`` shows it, as a plain dict: its fields in its order, the values
    as its serialisers write them (the name and phone masked, the status as its string). ``row``
    is a row of ``repo.BOOKING_READ_COLUMNS`` (or a ``Booking``)."""
    return {
        "id": row.id or 0,
        "session_id": row.session_id,
        "station_code": station_code,
        "name": mask_name(row.name) or "",
        "phone": row.phone_masked,
        "resident_id": row.resident_id,
        "seats": row.seats,
        "status": row.status,
        "waitlist_position": waitlist_position,
        "booked_by": row.booked_by,
        "created_at": row.created_at,
        "promoted_at": row.promoted_at,
        "cancelled_at": row.cancelled_at,
        "checked_in_at": row.checked_in_at,
        "version": row.version,
    }


async def booking_out(session: AsyncSession, booking: Booking, station_code: str) -> BookingRead:
    return (await booking_reads(session, [booking], station_code))[0]


async def _session_context(session: AsyncSession, session_id: int) -> tuple[ServiceSession, Station, StationService]:
    s = await repo.session_by_id(session, session_id)
    if s is None:
        raise NotFound("Session not found.", code="session_not_found")
    station = await stations_service.station_by_id(session, s.station_id)
    svc = (await stations_service.services_by_ids(session, [s.service_id])).get(s.service_id)
    assert station is not None and svc is not None
    return s, station, svc


async def get_session(session: AsyncSession, session_id: int) -> SessionRead:
    s, station, svc = await _session_context(session, session_id)
    return session_read(s, station, svc)


async def list_sessions(
    session: AsyncSession,
    station_code: str,
    service_code: str,
    *,
    after: dt.datetime | None,
    before: dt.datetime | None,
    cursor: tuple[str, int] | None,
    limit: int,
) -> tuple[list[dict[str, Any]], tuple[str, int] | None]:
    """A page of a service's sessions as ``session_item`` dicts (read as Core rows), and the
    (start, id) position after the page's last, None on the last page."""
    station = await stations_service.get_station(session, station_code)
    svc = await stations_service.get_service(session, station, service_code)
    assert svc.id is not None
    rows = await repo.session_rows(session, svc.id, after=after, before=before, cursor=cursor, limit=limit)
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = (rows[-1].starts_at.isoformat(), rows[-1].id or 0) if more and rows else None
    return [session_item(r, station.code, svc.code, svc.kind) for r in rows], next_cursor


async def create_session(
    session: AsyncSession,
    principal: Principal,
    station_code: str,
    service_code: str,
    data: SessionCreate,
    cancel_cutoff: dt.timedelta,
) -> SessionRead:
    station = await stations_service.get_station(session, station_code)
    ensure_manage(principal, station)
    svc = await stations_service.get_service(session, station, service_code)
    if svc.kind == ServiceKind.DROP_OFF:
        raise Invalid.field("path.service_code", "a drop-off service takes tickets, not sessions", code="wrong_kind")
    if data.ends_at <= data.starts_at:
        raise Invalid.field("body.ends_at", "must be after starts_at", code="end_before_start")
    if data.min_participants > data.capacity:
        raise Invalid.field("body.min_participants", "is more than the capacity")
    if data.max_seats_per_booking > data.capacity:
        raise Invalid.field("body.max_seats_per_booking", "is more than the capacity")
    if data.min_participants and data.min_cutoff_at is None:
        raise Invalid.field("body.min_cutoff_at", "is required with min_participants")
    if data.min_cutoff_at and data.min_cutoff_at > data.starts_at:
        raise Invalid.field("body.min_cutoff_at", "must not be after starts_at")
    if data.booking_opens_at and data.booking_closes_at and data.booking_closes_at <= data.booking_opens_at:
        raise Invalid.field("body.booking_closes_at", "must be after booking_opens_at")
    if data.booking_closes_at and data.booking_closes_at > data.starts_at:
        raise Invalid.field("body.booking_closes_at", "must not be after starts_at")
    assert station.id is not None and svc.id is not None
    s = ServiceSession(
        service_id=svc.id,
        station_id=station.id,
        community=station.community,
        title=data.title or svc.name,
        starts_at=data.starts_at,
        ends_at=data.ends_at,
        capacity=data.capacity,
        min_participants=data.min_participants,
        min_cutoff_at=data.min_cutoff_at,
        booking_opens_at=data.booking_opens_at,
        booking_closes_at=data.booking_closes_at,
        cancel_cutoff_at=data.cancel_cutoff_at or data.starts_at - cancel_cutoff,
        max_seats_per_booking=data.max_seats_per_booking,
    )
    session.add(s)
    await session.flush()
    return session_read(s, station, svc)


async def book(
    session: AsyncSession,
    cipher: PiiCipher,
    principal: Principal,
    session_id: int,
    data: BookingCreate,
    now: dt.datetime,
) -> BookingRead:
    # Crypto first: on SQLite the first statement takes the write lock, so keep it short.
    phone = store_phone(cipher, validate_phone(data.phone))
    s = await repo.session_by_id(session, session_id)
    if s is None:
        raise NotFound("Session not found.", code="session_not_found")
    ensure_sees(principal, s.community, "Session")
    if s.status == SessionStatus.CANCELLED:
        raise Invalid.field("path.session_id", "the session is cancelled", code="session_cancelled")
    if s.starts_at <= now:
        raise Invalid.field("path.session_id", "the session has already started", code="session_past")
    if s.booking_opens_at and now < s.booking_opens_at:
        raise Invalid.field(
            "path.session_id",
            f"booking opens at {s.booking_opens_at.isoformat()}",
            code="booking_not_open",
        )
    if s.booking_closes_at and now >= s.booking_closes_at:
        raise Invalid.field("path.session_id", "booking has closed", code="booking_closed")
    if data.seats > s.capacity:
        raise Invalid.field("body.seats", f"more than the session's capacity ({s.capacity})", code="over_capacity")
    if data.seats > s.max_seats_per_booking:
        raise Invalid.field(
            "body.seats",
            f"at most {s.max_seats_per_booking} seats per resident",
            code="over_resident_limit",
        )
    if await repo.live_booking_for_phone(session, session_id, phone.hash) is not None:
        raise Conflict("This phone already holds a booking for the session.", code="duplicate_booking")
    station = await stations_service.station_by_id(session, s.station_id)
    assert station is not None
    # Seen full → straight to the waitlist without queueing on the session's row lock (a
    # seat freed meanwhile is handed out by the worker's promotion sweep). The booking row
    # is written first, so the seat UPDATE is the last statement: on PostgreSQL the
    # session's row lock is held only from that UPDATE to the commit.
    fits = s.booked + data.seats <= s.capacity
    if not fits and not data.waitlist:
        raise Conflict("The session is full.", code="session_full")
    booking = Booking(
        session_id=session_id,
        station_id=s.station_id,
        community=s.community,
        name=data.name.strip(),
        phone_cipher=phone.cipher,
        phone_hash=phone.hash,
        phone_masked=phone.masked,
        resident_id=data.resident_id,
        seats=data.seats,
        status=BookingStatus.CONFIRMED if fits else BookingStatus.WAITLISTED,
        booked_by=principal.subject,
        created_at=now,
    )
    session.add(booking)
    await session.flush()  # a racing duplicate fails here on the unique index → 409
    if fits and not await repo.take_seats(session, session_id, data.seats):
        if not data.waitlist:
            raise Conflict("The session is full.", code="session_full")  # rolls back the row
        booking.status = BookingStatus.WAITLISTED
        session.add(booking)
        await session.flush()
    return await booking_out(session, booking, station.code)


async def get_booking(session: AsyncSession, principal: Principal, booking_id: int) -> tuple[Booking, Station]:
    booking = await repo.booking_by_id(session, booking_id, principal.visible_communities)
    if booking is None:
        raise NotFound("Booking not found.", code="booking_not_found")
    station = await stations_service.station_by_id(session, booking.station_id)
    assert station is not None
    return booking, station


async def read_booking(session: AsyncSession, principal: Principal, booking_id: int) -> BookingRead:
    booking, station = await get_booking(session, principal, booking_id)
    return await booking_out(session, booking, station.code)


async def list_bookings(
    session: AsyncSession,
    principal: Principal,
    session_id: int,
    *,
    statuses: list[str] | None,
    after_id: int | None,
    limit: int,
) -> tuple[list[dict[str, Any]], int | None]:
    """A page of a session's bookings as ``booking_item`` dicts (read as Core rows, the
    waitlist positions in one query for the page), and the id after which the next page
    starts, None on the last page."""
    s, station, _ = await _session_context(session, session_id)
    ensure_sees(principal, s.community, "Session")
    rows = await repo.booking_rows(
        session, session_id, principal.visible_communities, statuses=statuses, after_id=after_id, limit=limit
    )
    more = len(rows) > limit
    rows = rows[:limit]
    waiting = BookingStatus.WAITLISTED.value
    places: dict[int, int] = {}
    if any(r.status == waiting for r in rows):
        order = await repo.waitlist_order(session, [session_id])
        places = {bid: n for ids in order.values() for n, bid in enumerate(ids, start=1)}
    items = [booking_item(r, station.code, places.get(r.id) if r.status == waiting else None) for r in rows]
    return items, (rows[-1].id if more and rows else None)


async def promote_waitlist(session: AsyncSession, session_id: int, now: dt.datetime) -> list[Booking]:
    """Give free seats to waitlisted bookings in arrival order (first fit)."""
    s = await repo.session_by_id(session, session_id)
    if s is None or s.status != SessionStatus.SCHEDULED:
        return []
    free = s.capacity - s.booked
    promoted: list[Booking] = []
    for b in await repo.waitlist(session, session_id):
        if free <= 0:
            break
        if b.seats > free or b.id is None:
            continue
        if not await repo.take_seats(session, session_id, b.seats):
            break  # someone else took them meanwhile
        # Conditional flip: a concurrent promoter or a cancel may have moved it already.
        if not await repo.transition_booking(
            session, b.id, BookingStatus.WAITLISTED, BookingStatus.CONFIRMED, promoted_at=now
        ):
            await repo.release_seats(session, session_id, b.seats)
            continue
        free -= b.seats
        promoted.append(b)
    for b in promoted:
        assert b.id is not None
        fresh = await repo.booking_by_id(session, b.id, None)
        assert fresh is not None
        await notifications_service.queue_booking(session, "booking.promoted", fresh)
        await events_service.booking_event(session, "booking.promoted", fresh, s, now)
    return promoted


async def cancel_booking(session: AsyncSession, principal: Principal, booking_id: int, now: dt.datetime) -> BookingRead:
    booking, station = await get_booking(session, principal, booking_id)
    if booking.status not in (BookingStatus.CONFIRMED, BookingStatus.WAITLISTED):
        raise Invalid.field(
            "path.booking_id",
            f"a {booking.status} booking cannot be cancelled",
            code="not_cancellable",
        )
    s = await repo.session_by_id(session, booking.session_id)
    assert s is not None
    was_confirmed = booking.status == BookingStatus.CONFIRMED
    previous_status = booking.status
    if was_confirmed and s.cancel_cutoff_at and now > s.cancel_cutoff_at:
        raise Invalid.field(
            "path.booking_id",
            f"cancellation closed at {s.cancel_cutoff_at.isoformat()}",
            code="cancel_cutoff_passed",
        )
    assert booking.id is not None
    # Conditional: two concurrent cancels of one booking must not free its seats twice.
    if not await repo.transition_booking(
        session, booking.id, booking.status, BookingStatus.CANCELLED, cancelled_at=now
    ):
        raise Conflict("The booking changed meanwhile; reload it.", code="booking_changed")
    refreshed = await repo.booking_by_id(session, booking.id, None)
    assert refreshed is not None
    booking = refreshed
    await notifications_service.queue_booking(session, "booking.cancelled", booking)
    await events_service.booking_event(session, "booking.cancelled", booking, s, now, previous_status=previous_status)
    if was_confirmed:
        await repo.release_seats(session, booking.session_id, booking.seats)
        await promote_waitlist(session, booking.session_id, now)
    return await booking_out(session, booking, station.code)


async def _managed_booking(
    session: AsyncSession, principal: Principal, booking_id: int
) -> tuple[Booking, Station, ServiceSession]:
    booking, station = await get_booking(session, principal, booking_id)
    ensure_manage(principal, station)
    s = await repo.session_by_id(session, booking.session_id)
    assert s is not None
    return booking, station, s


async def check_in(session: AsyncSession, principal: Principal, booking_id: int, now: dt.datetime) -> BookingRead:
    booking, station, s = await _managed_booking(session, principal, booking_id)
    if booking.status != BookingStatus.CONFIRMED:
        raise Invalid.field("path.booking_id", f"a {booking.status} booking cannot check in", code="not_confirmed")
    if s.status == SessionStatus.CANCELLED:
        raise Invalid.field("path.booking_id", "the session is cancelled", code="session_cancelled")
    if now < s.starts_at - CHECK_IN_EARLY:
        raise Invalid.field("path.booking_id", "check-in opens an hour before the start", code="too_early")
    booking.status = BookingStatus.ATTENDED
    booking.checked_in_at = now
    booking.version += 1
    session.add(booking)
    await session.flush()
    return await booking_out(session, booking, station.code)


async def mark_no_show(session: AsyncSession, principal: Principal, booking_id: int, now: dt.datetime) -> BookingRead:
    booking, station, s = await _managed_booking(session, principal, booking_id)
    if booking.status != BookingStatus.CONFIRMED:
        raise Invalid.field(
            "path.booking_id",
            f"a {booking.status} booking cannot be a no-show",
            code="not_confirmed",
        )
    if now < s.starts_at:
        raise Invalid.field("path.booking_id", "the session has not started", code="too_early")
    booking.status = BookingStatus.NO_SHOW
    booking.version += 1
    session.add(booking)
    await session.flush()
    return await booking_out(session, booking, station.code)


async def _cancel_all(
    session: AsyncSession, s: ServiceSession, now: dt.datetime, *, reason: str, below_minimum: bool = False
) -> int:
    assert s.id is not None
    live = await repo.bookings_of_session(
        session, s.id, None, statuses=[BookingStatus.CONFIRMED, BookingStatus.WAITLISTED]
    )
    ids = [b.id for b in live if b.id is not None]
    await repo.set_booking_status(session, ids, BookingStatus.CANCELLED, now)
    for b in live:
        await notifications_service.queue_booking(session, "session.cancelled", b)
    await events_service.session_cancelled(session, s, ids, now, reason=reason, below_minimum=below_minimum)
    return len(live)


async def cancel_session(
    session: AsyncSession, principal: Principal, session_id: int, reason: str, now: dt.datetime
) -> SessionRead:
    s, station, svc = await _session_context(session, session_id)
    ensure_manage(principal, station)
    if not await repo.cancel_session_if_scheduled(session, session_id, reason):
        raise Invalid.field("path.session_id", "the session is already cancelled", code="session_cancelled")
    await _cancel_all(session, s, now, reason=reason)
    s = await repo.session_by_id(session, session_id)  # type: ignore[assignment]
    return session_read(s, station, svc)


async def auto_cancel_underbooked(session: AsyncSession, now: dt.datetime) -> list[int]:
    """Cancel sessions still below their minimum at the cut-off; tell everyone booked.

    Run by the background worker; safe with several replicas (the status flip is conditional).
    """
    cancelled: list[int] = []
    for s in await repo.sessions_below_minimum(session, now):
        assert s.id is not None
        reason = f"报名人数不足{s.min_participants}人"
        if await repo.cancel_session_if_scheduled(session, s.id, reason, below_minimum=True):
            await _cancel_all(session, s, now, reason=reason, below_minimum=True)
            cancelled.append(s.id)
    return cancelled


async def send_reminders(session: AsyncSession, now: dt.datetime) -> int:
    """Queue a reminder for every confirmed booking of sessions starting within a day."""
    count = 0
    for sid in await repo.claim_reminders(session, now, now + dt.timedelta(days=1), now):
        for b in await repo.bookings_of_session(session, sid, None, statuses=[BookingStatus.CONFIRMED]):
            await notifications_service.queue_booking(session, "session.reminder", b)
            count += 1
    return count


async def promote_sweep(session: AsyncSession, now: dt.datetime) -> int:
    """Promote where seats are free and people wait (closes a cancel/book race window)."""
    total = 0
    for sid in await repo.sessions_with_free_seats_and_waitlist(session):
        total += len(await promote_waitlist(session, sid, now))
    return total


# --- messages to residents ------------------------------------------------------------


def _when(s: ServiceSession) -> str:
    return to_local(s.starts_at).strftime("%m月%d日 %H:%M")


async def compose_notification(
    session: AsyncSession, cipher: PiiCipher, message: OutboxMessage
) -> OutgoingMessage | None:
    """The text of a ``booking.*`` / ``session.*`` message, to the booking's phone."""
    station_name = await notifications_service.sender_name(session, message.payload)
    booking = await repo.booking_by_id(session, int(message.payload["booking_id"]), None)
    if booking is None:
        return None
    sess = await repo.session_by_id(session, booking.session_id)
    if sess is None:
        return None
    phone = read_phone(cipher, booking.phone_cipher)
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
