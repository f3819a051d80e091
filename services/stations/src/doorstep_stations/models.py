"""Stations tables: stations, their services, opening hours, sessions, bookings, tickets, outbox,
webhooks."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from sqlalchemy import Column, Index, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from doorstep_shared.clock import utcnow
from doorstep_shared.db import JSONType, UTCDateTime, new_registry
from doorstep_shared.outbox import make_outbox_table
from doorstep_shared.webhooks import Webhooks

from .webhook_events import EVENT_TYPES


class StationsModel(SQLModel, registry=new_registry()):
    """Base of this service's tables: its own MetaData, so services never share tables."""


metadata = StationsModel.metadata

outbox = make_outbox_table(metadata)
# Webhook subscriptions, their delivery log and their own outbox (doorstep_shared.webhooks).
hooks = Webhooks(metadata, service="stations", events=EVENT_TYPES)


class ServiceKind(StrEnum):
    DROP_OFF = "drop_off"
    CLASS = "class"
    APPOINTMENT = "appointment"


class SessionStatus(StrEnum):
    SCHEDULED = "scheduled"
    CANCELLED = "cancelled"


class BookingStatus(StrEnum):
    CONFIRMED = "confirmed"
    WAITLISTED = "waitlisted"
    CANCELLED = "cancelled"
    ATTENDED = "attended"
    NO_SHOW = "no_show"


class TicketStatus(StrEnum):
    RECEIVED = "received"
    IN_PROGRESS = "in_progress"
    READY = "ready"
    COLLECTED = "collected"
    RETURNED = "returned"


class ExceptionKind(StrEnum):
    CLOSED = "closed"
    OPEN = "open"


class Station(StationsModel, table=True):
    """A party-mass service station (党群驿站), one per compound."""

    __tablename__ = "station"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=64, unique=True)
    name: str = Field(max_length=100)
    community: str = Field(max_length=64, index=True)
    compound: str = Field(max_length=64)
    address: str = Field(default="", max_length=200)
    latitude: float
    longitude: float
    keepers: list[str] = Field(default_factory=list, sa_type=JSONType)
    contact: str = Field(default="", max_length=100)
    description: str = Field(default="", max_length=1000)
    ticket_seq: int = Field(default=0)
    version: int = Field(default=1)
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class StationService(StationsModel, table=True):
    """A station's featured service: a drop-off service, a class or appointments."""

    __tablename__ = "station_service"
    __table_args__ = (UniqueConstraint("station_id", "code"),)

    id: int | None = Field(default=None, primary_key=True)
    station_id: int = Field(foreign_key="station.id", index=True)
    code: str = Field(max_length=64)
    name: str = Field(max_length=100)
    kind: str = Field(max_length=20)
    description: str = Field(default="", max_length=1000)
    featured: bool = Field(default=True)
    active: bool = Field(default=True)
    version: int = Field(default=1)
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class HoursRule(StationsModel, table=True):
    """A weekly opening window of a station (service_id null) or one of its services."""

    __tablename__ = "hours_rule"

    id: int | None = Field(default=None, primary_key=True)
    station_id: int = Field(foreign_key="station.id", index=True)
    service_id: int | None = Field(default=None, foreign_key="station_service.id")
    weekday: int  # 0 = Monday … 6 = Sunday
    opens: dt.time
    closes: dt.time
    effective_from: dt.date | None = None
    effective_to: dt.date | None = None
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class HoursException(StationsModel, table=True):
    """A dated exception: closed days (holidays) or extra openings."""

    __tablename__ = "hours_exception"

    id: int | None = Field(default=None, primary_key=True)
    station_id: int = Field(foreign_key="station.id", index=True)
    service_id: int | None = Field(default=None, foreign_key="station_service.id")
    kind: str = Field(max_length=10)
    start_date: dt.date
    end_date: dt.date
    opens: dt.time | None = None
    closes: dt.time | None = None
    reason: str = Field(default="", max_length=200)
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


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


class DropOffTicket(StationsModel, table=True):
    """Something a resident left at a station to be worked on and handed back."""

    __tablename__ = "dropoff_ticket"
    __table_args__ = (UniqueConstraint("station_id", "number"),)

    id: int | None = Field(default=None, primary_key=True)
    station_id: int = Field(foreign_key="station.id", index=True)
    service_id: int | None = Field(default=None, foreign_key="station_service.id")
    community: str = Field(max_length=64, index=True)
    number: str = Field(max_length=20)
    claim_code_hash: str = Field(max_length=64)
    name: str = Field(max_length=50)
    phone_cipher: str = Field(max_length=200)
    phone_hash: str = Field(max_length=64)
    phone_masked: str = Field(max_length=20)  # what responses show (138****5678)
    item: str = Field(max_length=200)
    request: str = Field(max_length=500)
    received_by: str = Field(max_length=100)
    status: str = Field(default=TicketStatus.RECEIVED, max_length=20, index=True)
    return_reason: str | None = Field(default=None, max_length=200)
    failed_attempts: int = Field(default=0)
    locked: bool = Field(default=False)
    received_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    ready_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    closed_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    version: int = Field(default=1)


class Notification(StationsModel, table=True):
    """A message sent by the development notifier (a log of what residents were told)."""

    __tablename__ = "notification"

    id: int | None = Field(default=None, primary_key=True)
    outbox_id: int = Field(unique=True)  # one message per outbox row: never duplicated
    station_id: int | None = Field(default=None, index=True)
    community: str = Field(max_length=64, index=True)
    kind: str = Field(max_length=40)
    channel: str = Field(max_length=20)
    recipient_masked: str = Field(max_length=40)
    text: str = Field(max_length=500)
    extra: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONType))
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
