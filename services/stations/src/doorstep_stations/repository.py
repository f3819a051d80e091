"""Every stations query. Tenancy (``visible``: communities, None = all) is applied here."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy import and_, delete, func, or_, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from .models import (
    Booking,
    BookingStatus,
    DropOffTicket,
    HoursException,
    HoursRule,
    Notification,
    ServiceSession,
    SessionStatus,
    Station,
    StationService,
    TicketStatus,
)
from .tenancy import Visible, visible_to

# --- stations and services ------------------------------------------------------------


async def station_by_code(session: AsyncSession, code: str) -> Station | None:
    return (await session.exec(select(Station).where(Station.code == code))).first()


async def station_by_id(session: AsyncSession, station_id: int) -> Station | None:
    return await session.get(Station, station_id)


async def list_stations(
    session: AsyncSession,
    *,
    community: str | None = None,
    bbox: tuple[float, float, float, float] | None = None,
    ids: Collection[int] | None = None,
) -> Sequence[Station]:
    query = select(Station)
    if community is not None:
        query = query.where(Station.community == community)
    if bbox is not None:
        min_lat, max_lat, min_lon, max_lon = bbox
        query = query.where(
            col(Station.latitude).between(min_lat, max_lat),
            col(Station.longitude).between(min_lon, max_lon),
        )
    if ids is not None:
        query = query.where(col(Station.id).in_(list(ids)))
    return (await session.exec(query.order_by(col(Station.code)))).all()


async def stations_by_ids(session: AsyncSession, ids: Collection[int]) -> dict[int, Station]:
    if not ids:
        return {}
    rows = (await session.exec(select(Station).where(col(Station.id).in_(list(ids))))).all()
    return {s.id: s for s in rows if s.id is not None}


async def services_of(session: AsyncSession, station_ids: Collection[int]) -> dict[int, list[StationService]]:
    out: dict[int, list[StationService]] = {i: [] for i in station_ids}
    if not station_ids:
        return out
    rows = (
        await session.exec(
            select(StationService)
            .where(col(StationService.station_id).in_(list(station_ids)))
            .order_by(col(StationService.station_id), col(StationService.code))
        )
    ).all()
    for svc in rows:
        out.setdefault(svc.station_id, []).append(svc)
    return out


async def service_by_code(session: AsyncSession, station_id: int, code: str) -> StationService | None:
    return (
        await session.exec(
            select(StationService).where(StationService.station_id == station_id, StationService.code == code)
        )
    ).first()


async def services_by_ids(session: AsyncSession, ids: Collection[int]) -> dict[int, StationService]:
    if not ids:
        return {}
    rows = (await session.exec(select(StationService).where(col(StationService.id).in_(list(ids))))).all()
    return {s.id: s for s in rows if s.id is not None}


# --- hours ----------------------------------------------------------------------------


async def hours_rules(session: AsyncSession, station_ids: Collection[int]) -> Sequence[HoursRule]:
    return (
        await session.exec(
            select(HoursRule)
            .where(col(HoursRule.station_id).in_(list(station_ids)))
            .order_by(
                col(HoursRule.station_id),
                col(HoursRule.service_id),
                col(HoursRule.effective_from),
                col(HoursRule.weekday),
                col(HoursRule.opens),
            )
        )
    ).all()


async def hours_exceptions(session: AsyncSession, station_ids: Collection[int]) -> Sequence[HoursException]:
    return (
        await session.exec(
            select(HoursException)
            .where(col(HoursException.station_id).in_(list(station_ids)))
            .order_by(col(HoursException.start_date), col(HoursException.id))
        )
    ).all()


async def delete_rule(session: AsyncSession, station_id: int, rule_id: int) -> bool:
    result = await session.exec(
        delete(HoursRule).where(col(HoursRule.id) == rule_id, col(HoursRule.station_id) == station_id)
    )
    return bool(result.rowcount)


async def delete_exception(session: AsyncSession, station_id: int, exc_id: int) -> bool:
    result = await session.exec(
        delete(HoursException).where(col(HoursException.id) == exc_id, col(HoursException.station_id) == station_id)
    )
    return bool(result.rowcount)


# --- sessions and seats ---------------------------------------------------------------


async def session_by_id(session: AsyncSession, session_id: int) -> ServiceSession | None:
    return await session.get(ServiceSession, session_id, populate_existing=True)


async def list_sessions(
    session: AsyncSession,
    service_id: int,
    *,
    after: dt.datetime | None,
    before: dt.datetime | None,
    cursor: tuple[str, int] | None,
    limit: int,
) -> Sequence[ServiceSession]:
    query = select(ServiceSession).where(ServiceSession.service_id == service_id)
    if after is not None:
        query = query.where(col(ServiceSession.starts_at) >= after)
    if before is not None:
        query = query.where(col(ServiceSession.starts_at) < before)
    if cursor is not None:
        starts, last_id = dt.datetime.fromisoformat(cursor[0]), cursor[1]
        query = query.where(
            or_(
                col(ServiceSession.starts_at) > starts,
                and_(col(ServiceSession.starts_at) == starts, col(ServiceSession.id) > last_id),
            )
        )
    query = query.order_by(col(ServiceSession.starts_at), col(ServiceSession.id)).limit(limit + 1)
    return (await session.exec(query)).all()


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


# --- bookings -------------------------------------------------------------------------


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


async def bookings_of_session(
    session: AsyncSession,
    session_id: int,
    visible: Visible,
    *,
    statuses: Collection[str] | None = None,
    after_id: int | None = None,
    limit: int | None = None,
) -> Sequence[Booking]:
    query = select(Booking).where(Booking.session_id == session_id, visible_to(col(Booking.community), visible))
    if statuses:
        query = query.where(col(Booking.status).in_(list(statuses)))
    if after_id is not None:
        query = query.where(col(Booking.id) > after_id)
    query = query.order_by(col(Booking.id))
    if limit is not None:
        query = query.limit(limit + 1)
    return (await session.exec(query)).all()


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


# --- drop-off tickets -----------------------------------------------------------------


async def next_ticket_seq(session: AsyncSession, station_id: int) -> int:
    """The station's next ticket number, taken atomically."""
    result = await session.exec(
        update(Station)
        .where(col(Station.id) == station_id)
        .values(ticket_seq=col(Station.ticket_seq) + 1)
        .returning(col(Station.ticket_seq))
        .execution_options(synchronize_session=False)
    )
    return int(result.scalar_one())


async def ticket_by_id(session: AsyncSession, ticket_id: int, visible: Visible) -> DropOffTicket | None:
    return (
        await session.exec(
            select(DropOffTicket)
            .where(DropOffTicket.id == ticket_id, visible_to(col(DropOffTicket.community), visible))
            .execution_options(populate_existing=True)
        )
    ).first()


async def ticket_for_reading(
    session: AsyncSession, ticket_id: int, visible: Visible
) -> tuple[DropOffTicket, Station, str | None] | None:
    """A ticket with its station and its service's code in one round trip (the read route;
    the write paths lock and load them with ``ticket_by_id``)."""
    query = (
        select(DropOffTicket, Station, StationService.code)
        .join(Station, col(Station.id) == col(DropOffTicket.station_id))
        .outerjoin(StationService, col(StationService.id) == col(DropOffTicket.service_id))
        .where(DropOffTicket.id == ticket_id, visible_to(col(DropOffTicket.community), visible))
    )
    row = (await session.exec(query)).first()
    return None if row is None else (row[0], row[1], row[2])


async def list_tickets(
    session: AsyncSession,
    station_id: int,
    *,
    statuses: Collection[str] | None,
    after_id: int | None,
    limit: int,
) -> Sequence[DropOffTicket]:
    query = select(DropOffTicket).where(DropOffTicket.station_id == station_id)
    if statuses:
        query = query.where(col(DropOffTicket.status).in_(list(statuses)))
    if after_id is not None:
        query = query.where(col(DropOffTicket.id) > after_id)
    return (await session.exec(query.order_by(col(DropOffTicket.id)).limit(limit + 1))).all()


async def transition_ticket(
    session: AsyncSession, ticket_id: int, from_status: str, to_status: str, **values: Any
) -> bool:
    """Move a ticket on from the status it was read in; False if someone moved it first."""
    result = await session.exec(
        update(DropOffTicket)
        .where(col(DropOffTicket.id) == ticket_id, col(DropOffTicket.status) == from_status)
        .values(status=to_status, version=col(DropOffTicket.version) + 1, **values)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


async def record_failed_claim(session: AsyncSession, ticket_id: int, max_attempts: int) -> int:
    """Count a wrong claim attempt atomically; the ticket locks at ``max_attempts``.

    Conditional on the ticket not being locked yet, so concurrent guesses cannot go past the
    limit; returns ``max_attempts`` when another request locked it first.
    """
    result = await session.exec(
        update(DropOffTicket)
        .where(col(DropOffTicket.id) == ticket_id, col(DropOffTicket.locked).is_(False))
        .values(
            failed_attempts=col(DropOffTicket.failed_attempts) + 1,
            locked=col(DropOffTicket.failed_attempts) + 1 >= max_attempts,
        )
        .returning(col(DropOffTicket.failed_attempts))
        .execution_options(synchronize_session=False)
    )
    attempts = result.scalar_one_or_none()
    return max_attempts if attempts is None else int(attempts)


# --- notifications --------------------------------------------------------------------


async def notification_exists(session: AsyncSession, outbox_id: int) -> bool:
    found = (await session.exec(select(Notification.id).where(Notification.outbox_id == outbox_id))).first()
    return found is not None


async def list_notifications(
    session: AsyncSession,
    visible: Visible,
    *,
    station_id: int | None,
    before_id: int | None,
    limit: int,
) -> Sequence[Notification]:
    query = select(Notification).where(visible_to(col(Notification.community), visible))
    if station_id is not None:
        query = query.where(Notification.station_id == station_id)
    if before_id is not None:
        query = query.where(col(Notification.id) < before_id)
    return (await session.exec(query.order_by(col(Notification.id).desc()).limit(limit + 1))).all()


# --- figures --------------------------------------------------------------------------


async def session_figures(
    session: AsyncSession, start: dt.datetime, end: dt.datetime, visible: Visible
) -> dict[int, dict[str, int]]:
    """Per station: sessions held / cancelled in the period, seats booked, attended, no-shows."""
    out: dict[int, dict[str, int]] = {}
    in_period = and_(col(ServiceSession.starts_at) >= start, col(ServiceSession.starts_at) < end)
    rows = (
        await session.exec(
            select(ServiceSession.station_id, ServiceSession.status, func.count())
            .where(in_period, visible_to(col(ServiceSession.community), visible))
            .group_by(col(ServiceSession.station_id), col(ServiceSession.status))
        )
    ).all()
    for station_id, status, count in rows:
        key = "sessions_cancelled" if status == SessionStatus.CANCELLED else "sessions_held"
        out.setdefault(station_id, {})[key] = int(count)
    rows2 = (
        await session.exec(
            select(Booking.station_id, Booking.status, func.coalesce(func.sum(Booking.seats), 0))
            .join(ServiceSession, col(ServiceSession.id) == col(Booking.session_id))
            .where(in_period, visible_to(col(Booking.community), visible))
            .group_by(col(Booking.station_id), col(Booking.status))
        )
    ).all()
    for station_id, status, seats in rows2:
        figures = out.setdefault(station_id, {})
        if status in (BookingStatus.CONFIRMED, BookingStatus.ATTENDED, BookingStatus.NO_SHOW):
            figures["seats_booked"] = figures.get("seats_booked", 0) + int(seats)
        if status == BookingStatus.ATTENDED:
            figures["seats_attended"] = int(seats)
        if status == BookingStatus.NO_SHOW:
            figures["no_shows"] = int(seats)
    return out


async def tickets_in_period(
    session: AsyncSession, start: dt.datetime, end: dt.datetime, visible: Visible
) -> Sequence[DropOffTicket]:
    return (
        await session.exec(
            select(DropOffTicket).where(
                col(DropOffTicket.received_at) >= start,
                col(DropOffTicket.received_at) < end,
                visible_to(col(DropOffTicket.community), visible),
            )
        )
    ).all()


OPEN_TICKET_STATUSES = (TicketStatus.RECEIVED, TicketStatus.IN_PROGRESS, TicketStatus.READY)
