"""Working-day deadlines over China's holidays and adjusted working days (调休)."""

from __future__ import annotations

import datetime as dt

from doorstep_proxy.cases import deadlines


def test_the_national_day_holiday_is_skipped_and_the_adjusted_saturday_counts() -> None:
    # 2026-10-01..07 are holidays; Saturday 2026-10-10 is an adjusted working day.
    due = deadlines.add_working_days(dt.date(2026, 9, 30), 3)
    assert due == deadlines.Due(dt.date(2026, 10, 10), official=True)


def test_mid_autumn_friday_is_not_a_working_day() -> None:
    assert deadlines.add_working_days(dt.date(2026, 9, 24), 1).date == dt.date(2026, 9, 28)


def test_years_beyond_the_calendar_fall_back_to_monday_to_friday() -> None:
    due = deadlines.add_working_days(dt.date(2099, 1, 2), 5)  # a Friday
    assert due == deadlines.Due(dt.date(2099, 1, 9), official=False)


def test_flags_overdue_and_due_soon() -> None:
    today = dt.date(2026, 9, 30)
    assert deadlines.flags(dt.date(2026, 9, 29), today, True) == (True, False)
    assert deadlines.flags(dt.date(2026, 10, 9), today, True) == (False, True)  # 2 working days away
    assert deadlines.flags(dt.date(2026, 10, 20), today, True) == (False, False)
    assert deadlines.flags(dt.date(2026, 9, 1), today, False) == (False, False)
    assert deadlines.time_limit({"promised_days": None, "statutory_days": 20}) == (20, "statutory")
