"""What a ``from``/``to`` query of days means, for every app's reports and filters.

Days are local days (Asia/Shanghai, :mod:`doorstep_shared.clock`); a period covers its first
and last day whole, so as instants it is [midnight of ``start``, midnight after ``end``). A
period left open defaults to one that ends today; each app says where its default begins
(this month for the services' figures, this year for the county's reports) and which years
it accepts. Every refusal is a 422 naming the query parameter.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from .clock import SHANGHAI
from .http.errors import Invalid

# The years a ``from``/``to`` day may fall in, unless the app says otherwise.
YEARS = (2000, 2100)


def day_after(day: dt.date) -> dt.date:
    return day if day == dt.date.max else day + dt.timedelta(days=1)


def day_start(day: dt.date, field: str = "query.from", years: tuple[int, int] = YEARS) -> dt.datetime:
    """Midnight in Shanghai of ``day`` as a UTC instant (422 on ``field`` outside ``years``)."""
    check_year(field, day, years)
    return _midnight(day)


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=SHANGHAI).astimezone(dt.UTC)


def check_year(field: str, day: dt.date | None, years: tuple[int, int] = YEARS) -> None:
    """A 422 on ``field`` when ``day`` falls outside ``years`` (both included)."""
    if day is not None and not years[0] <= day.year <= years[1]:
        raise Invalid.field(field, f"must be between {years[0]} and {years[1]}")


@dataclass(frozen=True)
class Period:
    """Days ``start`` to ``end`` (both included), and the instants [``since``, ``until``) they span."""

    start: dt.date
    end: dt.date
    since: dt.datetime
    until: dt.datetime


def report_period(
    period_from: dt.date | None,
    period_to: dt.date | None,
    *,
    today: dt.date,
    default_from: dt.date | None = None,
    years: tuple[int, int] = YEARS,
    max_years: int | None = None,
) -> Period:
    """The period a ``from``/``to`` query asks for: by default from ``default_from`` (the first of
    this month) to ``today``; 422 when a day is outside ``years``, when the period ends before it
    starts, or when it spans more than ``max_years`` years."""
    start = period_from or default_from or today.replace(day=1)
    end = period_to or today
    check_year("query.from", start, years)
    check_year("query.to", end, years)
    if end < start:
        raise Invalid.field("query.to", "the period ends before it starts")
    if max_years is not None and (end - start).days > max_years * 366:
        raise Invalid.field("query.to", f"a period spans at most {max_years} years")
    return Period(start, end, _midnight(start), _midnight(day_after(end)))
