"""One reading of a ``from``/``to`` query of days, for every app's reports and filters."""

from __future__ import annotations

import datetime as dt

import pytest

from doorstep_shared.http.errors import Invalid
from doorstep_shared.periods import day_start, report_period

TODAY = dt.date(2026, 5, 20)


def test_an_open_period_runs_from_the_first_of_the_month_to_today_in_shanghai_days() -> None:
    period = report_period(None, None, today=TODAY)
    assert (period.start, period.end) == (dt.date(2026, 5, 1), TODAY)
    assert period.since == dt.datetime(2026, 4, 30, 16, tzinfo=dt.UTC)  # midnight in Shanghai
    assert period.until == dt.datetime(2026, 5, 20, 16, tzinfo=dt.UTC)  # the last day is whole


def test_an_app_chooses_where_an_open_period_begins() -> None:
    period = report_period(None, None, today=TODAY, default_from=dt.date(2026, 1, 1))
    assert period.start == dt.date(2026, 1, 1)


@pytest.mark.parametrize(
    ("period_from", "period_to", "field"),
    [
        (dt.date(2026, 5, 2), dt.date(2026, 5, 1), "query.to"),  # ends before it starts
        (dt.date(1999, 12, 31), None, "query.from"),  # before the accepted years
        (None, dt.date(2101, 1, 1), "query.to"),  # after them
        (dt.date(2000, 1, 1), dt.date(2026, 1, 1), "query.to"),  # longer than max_years
    ],
)
def test_a_period_that_cannot_be_is_a_422_naming_the_parameter(
    period_from: dt.date | None, period_to: dt.date | None, field: str
) -> None:
    with pytest.raises(Invalid) as caught:
        report_period(period_from, period_to, today=TODAY, max_years=10)
    assert caught.value.to_problem()["errors"][0]["field"] == field


def test_an_app_may_accept_wider_years() -> None:
    assert report_period(dt.date(1950, 1, 1), None, today=TODAY, years=(1900, 2199)).start.year == 1950
    assert day_start(dt.date(1950, 1, 1), years=(1900, 2199)).year == 1949  # 1950-01-01 00:00 +08:00
