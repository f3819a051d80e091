"""Stations API shapes: separate Create / Update / Read models; inputs forbid unknown fields."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from doorstep_shared.types import LocalTime

from .models import BookingStatus, ExceptionKind, ServiceKind, SessionStatus, TicketStatus

MIN_YEAR, MAX_YEAR = 2000, 2100


def _instant_in_range(value: dt.datetime) -> dt.datetime:
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        raise ValueError(f"must be between {MIN_YEAR} and {MAX_YEAR}")
    return value


def _day_in_range(value: dt.date) -> dt.date:
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        raise ValueError(f"must be between {MIN_YEAR} and {MAX_YEAR}")
    return value


Instant = Annotated[AwareDatetime, AfterValidator(_instant_in_range)]
Day = Annotated[dt.date, AfterValidator(_day_in_range)]

Code = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9_-]*$")]
Username = Annotated[str, Field(min_length=1, max_length=100)]


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- stations -------------------------------------------------------------------------


class ServiceRead(BaseModel):
    code: str
    name: str
    kind: ServiceKind
    description: str
    featured: bool
    active: bool
    version: int


class StationRead(BaseModel):
    code: str
    name: str
    community: str
    compound: str
    address: str
    latitude: float
    longitude: float
    keepers: list[str]
    contact: str
    description: str
    services: list[ServiceRead]
    version: int


class StationHit(StationRead):
    """A search result: the station, its distance from the point asked about, open now or not."""

    distance_km: float | None = None
    open_now: bool


class StationCreate(_Input):
    code: Code
    name: str = Field(min_length=1, max_length=100)
    community: Code
    compound: Code
    address: str = Field("", max_length=200)
    latitude: float = Field(ge=-90, le=90)
    longitude: float = Field(ge=-180, le=180)
    keepers: list[Username] = Field(default_factory=list, max_length=20)
    contact: str = Field("", max_length=100)
    description: str = Field("", max_length=1000)


class StationUpdate(_Input):
    name: str | None = Field(None, min_length=1, max_length=100)
    address: str | None = Field(None, max_length=200)
    latitude: float | None = Field(None, ge=-90, le=90)
    longitude: float | None = Field(None, ge=-180, le=180)
    keepers: list[Username] | None = Field(None, max_length=20)
    contact: str | None = Field(None, max_length=100)
    description: str | None = Field(None, max_length=1000)


class ServiceCreate(_Input):
    code: Code
    name: str = Field(min_length=1, max_length=100)
    kind: ServiceKind
    description: str = Field("", max_length=1000)
    featured: bool = True


class ServiceUpdate(_Input):
    name: str | None = Field(None, min_length=1, max_length=100)
    description: str | None = Field(None, max_length=1000)
    featured: bool | None = None
    active: bool | None = None


# --- hours ----------------------------------------------------------------------------


class HoursRuleCreate(_Input):
    """One window on several weekdays (0 = Monday … 6 = Sunday), from/to dates inclusive."""

    service_code: Code | None = None
    weekdays: list[Annotated[int, Field(ge=0, le=6)]] = Field(min_length=1, max_length=7)
    opens: LocalTime
    closes: LocalTime
    effective_from: Day | None = None
    effective_to: Day | None = None


class HoursRuleRead(BaseModel):
    id: int
    service_code: str | None
    weekday: int
    opens: LocalTime
    closes: LocalTime
    effective_from: dt.date | None
    effective_to: dt.date | None


class HoursExceptionCreate(_Input):
    """Closed days (holidays; a window if ``opens``/``closes`` are given) or an extra opening."""

    service_code: Code | None = None
    kind: ExceptionKind
    start_date: Day
    end_date: Day
    opens: LocalTime | None = None
    closes: LocalTime | None = None
    reason: str = Field("", max_length=200)


class HoursExceptionRead(BaseModel):
    id: int
    service_code: str | None
    kind: ExceptionKind
    start_date: dt.date
    end_date: dt.date
    opens: LocalTime | None
    closes: LocalTime | None
    reason: str


class OpenStateRead(BaseModel):
    at: dt.datetime
    open_now: bool
    open_until: dt.datetime | None
    next_opens_at: dt.datetime | None
    next_closes_at: dt.datetime | None


class Window(BaseModel):
    opens: LocalTime
    closes: LocalTime


class DayHours(BaseModel):
    date: dt.date
    windows: list[Window]


class HoursRead(BaseModel):
    station_code: str
    service_code: str | None
    timezone: str = "Asia/Shanghai"
    rules: list[HoursRuleRead]
    exceptions: list[HoursExceptionRead]
    state: OpenStateRead
    week: list[DayHours]


# --- sessions and bookings ------------------------------------------------------------


class SessionCreate(_Input):
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


class SessionCancel(_Input):
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
    cancel_reason: str | None
    version: int


class BookingCreate(_Input):
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
    booked_by: str
    created_at: dt.datetime
    promoted_at: dt.datetime | None
    cancelled_at: dt.datetime | None
    checked_in_at: dt.datetime | None
    version: int


# --- drop-off tickets -----------------------------------------------------------------


class TicketCreate(_Input):
    service_code: Code | None = None
    name: str = Field(min_length=1, max_length=50)
    phone: str = Field(min_length=5, max_length=20)
    item: str = Field(min_length=1, max_length=200)
    request: str = Field(min_length=1, max_length=500)


class TicketRead(BaseModel):
    id: int
    station_code: str
    service_code: str | None
    number: str
    name: str = Field(description="Masked")
    phone: str = Field(description="Masked")
    item: str
    request: str
    received_by: str
    status: TicketStatus
    return_reason: str | None
    failed_attempts: int
    locked: bool
    received_at: dt.datetime
    ready_at: dt.datetime | None
    closed_at: dt.datetime | None
    age_hours: float
    version: int


class TicketCreated(TicketRead):
    claim_code: str = Field(description="Shown once: hand it to the resident")


class TicketStatusChange(_Input):
    status: Literal["in_progress", "ready", "returned"]
    reason: str | None = Field(None, min_length=1, max_length=200)


class TicketCollect(_Input):
    claim_code: str | None = Field(None, min_length=1, max_length=20)
    phone_last4: str | None = Field(None, pattern=r"^\d{4}$")

    @model_validator(mode="after")
    def _one_proof(self) -> TicketCollect:
        if (self.claim_code is None) == (self.phone_last4 is None):
            raise ValueError("give exactly one of claim_code or phone_last4")
        return self


# --- notifications and figures --------------------------------------------------------


class NotificationRead(BaseModel):
    id: int
    station_code: str | None
    community: str
    kind: str
    channel: str
    recipient: str = Field(description="Masked")
    text: str
    created_at: dt.datetime


class StationFigures(BaseModel):
    station_code: str
    station_name: str
    community: str
    sessions_held: int
    sessions_cancelled: int
    seats_booked: int
    seats_attended: int
    no_shows: int
    tickets_received: int
    tickets_collected: int
    tickets_returned: int
    avg_turnaround_hours: float | None
    people_served: int


class FiguresRead(BaseModel):
    from_date: dt.date
    to_date: dt.date
    stations: list[StationFigures]
    total_people_served: int
