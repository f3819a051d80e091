"""The figures' queries: sessions, seats and tickets per station over a period.

Read-only aggregates over the bookings' and tickets' tables (their models are public);
tenancy (``visible``: communities, None = all) is applied here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import and_, func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ..bookings.models import Booking, BookingStatus, ServiceSession, SessionStatus
from ..tenancy import Visible, visible_to
from ..tickets.models import DropOffTicket


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
