"""Opening-hours API shapes: rules and exceptions in, the hours and the open state out."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from doorstep_shared.types import LocalTime

from ..inputs import Code, Day, Input
from .models import ExceptionKind


class HoursRuleCreate(Input):
    """One window on several weekdays (0 = Monday … 6 = Sunday), from/to dates inclusive."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "service_code": "haircut",
                    "weekdays": [1, 3],
                    "opens": "08:30",
                    "closes": "11:30",
                    "effective_from": "2026-06-01",
                }
            ]
        }
    )

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


class HoursExceptionCreate(Input):
    """Closed days (holidays; a window if ``opens``/``closes`` are given) or an extra opening."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"kind": "closed", "start_date": "2026-10-01", "end_date": "2026-10-07", "reason": "国庆假期"}]
        }
    )

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
