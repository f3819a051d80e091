"""Sessions and bookings API shapes; phones and names go out masked."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field

from doorstep_shared.types import RedactedText

from ..inputs import Input, Instant
from ..stations.models import ServiceKind
from .models import BookingStatus, SessionStatus


class SessionCreate(Input):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "title": "爱心理发 周六上午场",
                    "starts_at": "2026-11-07T09:00:00+08:00",
                    "ends_at": "2026-11-07T11:00:00+08:00",
                    "capacity": 8,
                    "min_participants": 2,
                    "min_cutoff_at": "2026-11-06T18:00:00+08:00",
                    "booking_opens_at": "2026-11-01T08:00:00+08:00",
                    "booking_closes_at": "2026-11-07T08:00:00+08:00",
                    "cancel_cutoff_at": "2026-11-06T20:00:00+08:00",
                    "max_seats_per_booking": 1,
                }
            ]
        }
    )

    title: str = Field("", max_length=100)
    starts_at: Instant
    ends_at: Instant
    capacity: int = Field(ge=1, le=10_000)
    min_participants: int = Field(0, ge=0, le=10_000)
    min_cutoff_at: Instant | None = None
    booking_opens_at: Instant | None = None
    booking_closes_at: Instant | None = None
    cancel_cutoff_at: Instant | None = None
    max_seats_per_booking: int = Field(1, ge=1, le=100)


class SessionCancel(Input):
    model_config = ConfigDict(json_schema_extra={"examples": [{"reason": "老师临时有事，改期另行通知"}]})

    reason: str = Field(min_length=1, max_length=200)


class SessionRead(BaseModel):
    id: int
    station_code: str
    service_code: str
    service_kind: ServiceKind
    title: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    capacity: int
    booked: int
    available: int
    min_participants: int
    min_cutoff_at: dt.datetime | None
    booking_opens_at: dt.datetime | None
    booking_closes_at: dt.datetime | None
    cancel_cutoff_at: dt.datetime | None
    max_seats_per_booking: int
    status: SessionStatus
    cancel_reason: RedactedText | None
    version: int


class BookingCreate(Input):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"name": "张阿姨", "phone": "13800000000", "seats": 1, "waitlist": True}]}
    )

    name: str = Field(min_length=1, max_length=50)
    phone: str = Field(min_length=5, max_length=20)
    seats: int = Field(1, ge=1, le=100)
    resident_id: str | None = Field(None, max_length=64, description="Optional ledger resident id")
    waitlist: bool = Field(True, description="Join the waitlist when the session is full")


class BookingRead(BaseModel):
    id: int
    session_id: int
    station_code: str
    name: str = Field(description="Masked")
    phone: str = Field(description="Masked")
    resident_id: str | None
    seats: int
    status: BookingStatus
    waitlist_position: int | None = Field(
        description="1-based place among the session's waitlisted bookings in booking order; null unless waitlisted"
    )
    booked_by: str
    created_at: dt.datetime
    promoted_at: dt.datetime | None
    cancelled_at: dt.datetime | None
    checked_in_at: dt.datetime | None
    version: int
