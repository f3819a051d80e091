"""Opening-hours tables: weekly rules and dated exceptions of a station or one of its services."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlmodel import Field

from doorstep_shared.clock import utcnow
from doorstep_shared.db import UTCDateTime

from ..db import StationsModel


class ExceptionKind(StrEnum):
    CLOSED = "closed"
    OPEN = "open"


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
