"""What a ``from``/``to`` query of days means: local days (Asia/Shanghai) as UTC instants, and the
period a report covers when it is not given (this month up to today)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from doorstep_shared.clock import SHANGHAI
from doorstep_shared.http.errors import Invalid


def day_after(day: dt.date) -> dt.date:
    return day if day == dt.date.max else day + dt.timedelta(days=1)


def day_start(day: dt.date, field: str = "query.from") -> dt.datetime:
    """Midnight in Shanghai of ``day`` as a UTC instant (422 for days outside 1900–2199)."""
    if not 1900 <= day.year < 2200:
        raise Invalid.field(field, "date out of range")
    return dt.datetime.combine(day, dt.time(), tzinfo=SHANGHAI).astimezone(dt.UTC)


@dataclass(frozen=True)
class Period:
    """Days ``start`` to ``end`` (both included), and the instants [``since``, ``until``) they span."""

    start: dt.date
    end: dt.date
    since: dt.datetime
    until: dt.datetime


def period(period_from: dt.date | None, period_to: dt.date | None, today: dt.date) -> Period:
    """The period of a report: by default from the first of this month to ``today``; 422 when
    it ends before it starts or a day is out of range."""
    start = period_from or today.replace(day=1)
    end = period_to or today
    if end < start:
        raise Invalid.field("query.to", "the period ends before it starts")
    return Period(start, end, day_start(start), day_start(day_after(end), "query.to"))
