"""Every sessions and bookings query. Tenancy (``visible``: communities, None = all) is applied here."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy import Row, and_, or_, update
from sqlalchemy import select as sa_select
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ..tenancy import Visible, visible_to
from .models import Booking, BookingStatus, ServiceSession, SessionStatus


async def session_by_id(session: AsyncSession, session_id: int) -> ServiceSession | None:
    return await session.get(ServiceSession, session_id, populate_existing=True)


# What a session's and a booking's reads show (``SessionRead``, ``BookingRead``): the list routes
# read Core rows of these columns, no ORM entity per row (and no phone ciphertext or hash).
_SESSIONS = ServiceSession.__table__  # type: ignore[attr-defined]
_BOOKINGS = Booking.__table__  # type: ignore[attr-defined]
SESSION_READ_COLUMNS = tuple(
    _SESSIONS.c[name]
    for name in (
        "id",
        "title",
        "starts_at",
        "ends_at",
        "capacity",
        "booked",
        "min_participants",
        "min_cutoff_at",
        "booking_opens_at",
        "booking_closes_at",
        "cancel_cutoff_at",
        "max_seats_per_booking",
        "status",
        "cancel_reason",
        "version",
    )
)
BOOKING_READ_COLUMNS = tuple(
    _BOOKINGS.c[name]
    for name in (
        "id",
        "session_id",
        "name",
        "phone_masked",
        "resident_id",
        "seats",
        "status",
        "booked_by",
        "created_at",
        "promoted_at",
        "cancelled_at",
        "checked_in_at",
        "version",
    )
)


async def session_rows(
    session: AsyncSession,
    service_id: int,
    *,
    after: dt.datetime | None,
    before: dt.datetime | None,
    cursor: tuple[str, int] | None,
    limit: int,
) -> Sequence[Row[Any]]:
    """A service's sessions by start time (then id) as rows of ``SESSION_READ_COLUMNS``: those
    starting in [after, before), after the (start, id) ``cursor``; ``limit`` + 1 of them, so the
    caller sees whether there are more."""
    query = sa_select(*SESSION_READ_COLUMNS).where(_SESSIONS.c.service_id == service_id)
    if after is not None:
        query = query.where(_SESSIONS.c.starts_at >= after)
    if before is not None:
        query = query.where(_SESSIONS.c.starts_at < before)
    if cursor is not None:
        starts, last_id = dt.datetime.fromisoformat(cursor[0]), cursor[1]
        query = query.where(
            or_(
                _SESSIONS.c.starts_at > starts,
                and_(_SESSIONS.c.starts_at == starts, _SESSIONS.c.id > last_id),
            )
        )
    query = query.order_by(_SESSIONS.c.starts_at, _SESSIONS.c.id).limit(limit + 1)
    return (await session.execute(query)).all()


async def take_seats(session: AsyncSession, session_id: int, seats: int) -> bool:
    """Atomically take ``seats`` if they are free: one conditional UPDATE, no read-then-write."""
    result = await session.exec(
        update(ServiceSession)
        .where(
            col(ServiceSession.id) == session_id,
            col(ServiceSession.status) == SessionStatus.SCHEDULED,
            col(ServiceSession.booked) + seats <= col(ServiceSession.capacity),
        )
        .values(booked=col(ServiceSession.booked) + seats)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


async def release_seats(session: AsyncSession, session_id: int, seats: int) -> None:
    await session.exec(
        update(ServiceSession)
        .where(col(ServiceSession.id) == session_id)
        .values(booked=col(ServiceSession.booked) - seats)
        .execution_options(synchronize_session=False)
    )


async def cancel_session_if_scheduled(
    session: AsyncSession, session_id: int, reason: str, *, below_minimum: bool = False
) -> bool:
    """Flip scheduled → cancelled once (safe when several workers race)."""
    query = update(ServiceSession).where(
        col(ServiceSession.id) == session_id,
        col(ServiceSession.status) == SessionStatus.SCHEDULED,
    )
    if below_minimum:
        query = query.where(col(ServiceSession.booked) < col(ServiceSession.min_participants))
    result = await session.exec(
        query.values(
            status=SessionStatus.CANCELLED,
            cancel_reason=reason,
            version=col(ServiceSession.version) + 1,
        ).execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


async def sessions_below_minimum(session: AsyncSession, now: dt.datetime) -> Sequence[ServiceSession]:
    return (
        await session.exec(
            select(ServiceSession).where(
                ServiceSession.status == SessionStatus.SCHEDULED,
                col(ServiceSession.min_participants) > 0,
                col(ServiceSession.min_cutoff_at) <= now,
                col(ServiceSession.starts_at) > now,
                col(ServiceSession.booked) < col(ServiceSession.min_participants),
            )
        )
    ).all()


async def claim_reminders(session: AsyncSession, start: dt.datetime, end: dt.datetime, now: dt.datetime) -> list[int]:
    """Sessions starting in [start, end) not yet reminded; marked so no other worker repeats it."""
    ids = (
        await session.exec(
            select(ServiceSession.id).where(
                ServiceSession.status == SessionStatus.SCHEDULED,
                col(ServiceSession.reminder_sent_at).is_(None),
                col(ServiceSession.starts_at) >= start,
                col(ServiceSession.starts_at) < end,
            )
        )
    ).all()
    claimed: list[int] = []
    for sid in ids:
        result = await session.exec(
            update(ServiceSession)
            .where(col(ServiceSession.id) == sid, col(ServiceSession.reminder_sent_at).is_(None))
            .values(reminder_sent_at=now)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount == 1 and sid is not None:
            claimed.append(sid)
    return claimed


async def sessions_with_free_seats_and_waitlist(session: AsyncSession) -> Sequence[int]:
    waiting = select(Booking.session_id).where(Booking.status == BookingStatus.WAITLISTED)
    return (
        await session.exec(
            select(ServiceSession.id).where(
                ServiceSession.status == SessionStatus.SCHEDULED,
                col(ServiceSession.booked) < col(ServiceSession.capacity),
                col(ServiceSession.id).in_(waiting),
            )
        )
    ).all()  # type: ignore[return-value]


async def live_booking_for_phone(session: AsyncSession, session_id: int, phone_hash: str) -> Booking | None:
    return (
        await session.exec(
            select(Booking).where(
                Booking.session_id == session_id,
                Booking.phone_hash == phone_hash,
                Booking.status != BookingStatus.CANCELLED,
            )
        )
    ).first()


async def booking_by_id(session: AsyncSession, booking_id: int, visible: Visible) -> Booking | None:
    return (
        await session.exec(
            select(Booking)
            .where(Booking.id == booking_id, visible_to(col(Booking.community), visible))
            .execution_options(populate_existing=True)
        )
    ).first()


async def waitlist(session: AsyncSession, session_id: int) -> Sequence[Booking]:
    """Waitlisted bookings in arrival order (first come, first served)."""
    return (
        await session.exec(
            select(Booking)
            .where(Booking.session_id == session_id, Booking.status == BookingStatus.WAITLISTED)
            .order_by(col(Booking.created_at), col(Booking.id))
        )
    ).all()


async def waitlist_order(session: AsyncSession, session_ids: Collection[int]) -> dict[int, list[int]]:
    """The waitlisted booking ids of these sessions, each in booking order (one query)."""
    rows = (
        await session.exec(
            select(Booking.session_id, Booking.id)
            .where(col(Booking.session_id).in_(list(session_ids)), Booking.status == BookingStatus.WAITLISTED)
            .order_by(col(Booking.session_id), col(Booking.created_at), col(Booking.id))
        )
    ).all()
    out: dict[int, list[int]] = {}
    for session_id, booking_id in rows:
        if booking_id is not None:
            out.setdefault(session_id, []).append(booking_id)
    return out


async def bookings_of_session(
    session: AsyncSession,
    session_id: int,
    visible: Visible,
    *,
    statuses: Collection[str] | None = None,
) -> Sequence[Booking]:
    """A session's bookings (of these statuses) in booking order, as entities: the writes that
    cancel or remind them all."""
    query = select(Booking).where(Booking.session_id == session_id, visible_to(col(Booking.community), visible))
    if statuses:
        query = query.where(col(Booking.status).in_(list(statuses)))
    return (await session.exec(query.order_by(col(Booking.id)))).all()


async def booking_rows(
    session: AsyncSession,
    session_id: int,
    visible: Visible,
    *,
    statuses: Collection[str] | None,
    after_id: int | None,
    limit: int,
) -> Sequence[Row[Any]]:
    """A session's bookings (of these statuses, after ``after_id``) in booking order as rows of
    ``BOOKING_READ_COLUMNS``; ``limit`` + 1 of them, so the caller sees whether there are more."""
    query = sa_select(*BOOKING_READ_COLUMNS).where(
        _BOOKINGS.c.session_id == session_id, visible_to(_BOOKINGS.c.community, visible)
    )
    if statuses:
        query = query.where(_BOOKINGS.c.status.in_(list(statuses)))
    if after_id is not None:
        query = query.where(_BOOKINGS.c.id > after_id)
    return (await session.execute(query.order_by(_BOOKINGS.c.id).limit(limit + 1))).all()


async def transition_booking(
    session: AsyncSession, booking_id: int, from_status: str, to_status: str, **values: Any
) -> bool:
    """Move one booking from the status it was read in; False if someone moved it first."""
    result = await session.exec(
        update(Booking)
        .where(col(Booking.id) == booking_id, col(Booking.status) == from_status)
        .values(status=to_status, version=col(Booking.version) + 1, **values)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


async def set_booking_status(
    session: AsyncSession, booking_ids: Collection[int], status: str, now: dt.datetime
) -> None:
    if not booking_ids:
        return
    values: dict[str, Any] = {"status": status, "version": col(Booking.version) + 1}
    if status == BookingStatus.CANCELLED:
        values["cancelled_at"] = now
    await session.exec(
        update(Booking)
        .where(col(Booking.id).in_(list(booking_ids)))
        .values(**values)
        .execution_options(synchronize_session=False)
    )
