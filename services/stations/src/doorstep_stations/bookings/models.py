"""Bookings tables: class sessions and appointment slots, and the bookings of their seats."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import Index, text
from sqlmodel import Field

from doorstep_shared.clock import utcnow
from doorstep_shared.db import UTCDateTime

from ..db import StationsModel


class SessionStatus(StrEnum):
    SCHEDULED = "scheduled"
    CANCELLED = "cancelled"


class BookingStatus(StrEnum):
    CONFIRMED = "confirmed"
    WAITLISTED = "waitlisted"
    CANCELLED = "cancelled"
    ATTENDED = "attended"
    NO_SHOW = "no_show"


class ServiceSession(StationsModel, table=True):
    """A class session or an appointment slot: a time with a number of seats."""

    __tablename__ = "service_session"

    id: int | None = Field(default=None, primary_key=True)
    service_id: int = Field(foreign_key="station_service.id", index=True)
    station_id: int = Field(foreign_key="station.id", index=True)
    community: str = Field(max_length=64, index=True)
    title: str = Field(default="", max_length=100)
    starts_at: dt.datetime = Field(sa_type=UTCDateTime, index=True)
    ends_at: dt.datetime = Field(sa_type=UTCDateTime)
    capacity: int
    booked: int = Field(default=0)  # confirmed + attended + no-show seats
    min_participants: int = Field(default=0)
    min_cutoff_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    booking_opens_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    booking_closes_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    cancel_cutoff_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    max_seats_per_booking: int = Field(default=1)
    status: str = Field(default=SessionStatus.SCHEDULED, max_length=20)
    cancel_reason: str | None = Field(default=None, max_length=200)
    reminder_sent_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    version: int = Field(default=1)
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Booking(StationsModel, table=True):
    """Seats of one resident in one session."""

    __tablename__ = "booking"
    __table_args__ = (
        # One live booking per phone per session; a cancelled one does not block rebooking.
        Index(
            "uq_booking_session_phone_live",
            "session_id",
            "phone_hash",
            unique=True,
            sqlite_where=text("status != 'cancelled'"),
            postgresql_where=text("status != 'cancelled'"),
        ),
        Index("ix_booking_session_status", "session_id", "status", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    session_id: int = Field(foreign_key="service_session.id")
    station_id: int = Field(foreign_key="station.id", index=True)
    community: str = Field(max_length=64, index=True)
    name: str = Field(max_length=50)
    phone_cipher: str = Field(max_length=200)
    phone_hash: str = Field(max_length=64)
    phone_masked: str = Field(max_length=20)  # what responses show (138****5678)
    resident_id: str | None = Field(default=None, max_length=64)
    seats: int
    status: str = Field(max_length=20)
    booked_by: str = Field(max_length=100)
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    promoted_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    cancelled_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    checked_in_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    version: int = Field(default=1)
