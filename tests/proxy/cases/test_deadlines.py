"""Working-day deadlines over China's holidays and adjusted working days (调休)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from doorstep_proxy.cases import deadlines

pytestmark = pytest.mark.dates


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


def test_the_calendar_is_official_to_its_last_year_and_provisional_after() -> None:
    last = deadlines.last_official_year()
    assert last >= 2026
    inside = deadlines.add_working_days(dt.date(last, 12, 1), 5)
    assert inside.official
    # Spring Festival of the year after is not known: counted as Monday to Friday, and said so.
    after = deadlines.add_working_days(dt.date(last, 12, 30), 10)
    assert after.official is False
    assert after.date.weekday() < 5


def test_an_operator_loads_the_next_notice_and_its_days_win(tmp_path: Path) -> None:
    notice = tmp_path / "holidays-2027.csv"
    notice.write_text(
        "date,kind,name\n2027-02-05,holiday,春节\n2027-02-08,holiday,春节\n2027-02-09,holiday,春节\n"
        "2027-02-10,holiday,春节\n2027-02-11,holiday,春节\n2027-02-20,workday,春节调休\n",
        encoding="utf-8",
    )
    try:
        assert deadlines.load_supplement(notice) == 6
        assert deadlines.last_official_year() == 2027
        # Thursday 4 Feb + 3 working days: Fri 5 (holiday), Mon 8–Thu 11 (holiday), Fri 12, Mon 15, Tue 16
        assert deadlines.add_working_days(dt.date(2027, 2, 4), 3) == deadlines.Due(dt.date(2027, 2, 16), True)
        assert deadlines.is_workday(dt.date(2027, 2, 20)) == (True, True)  # the adjusted Saturday
        assert deadlines.is_workday(dt.date(2027, 3, 1)) == (True, True)  # a plain day of a loaded year
    finally:
        deadlines.configure_supplement({})
    assert deadlines.add_working_days(dt.date(2027, 2, 4), 3).official is False


def test_a_malformed_notice_names_its_line(tmp_path: Path) -> None:
    notice = tmp_path / "bad.csv"
    notice.write_text("2027-02-05,holiday\n2027-02-31,holiday\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"bad\.csv:2"):
        deadlines.load_supplement(notice)
    notice.write_text("2027-02-05,vacation\n", encoding="utf-8")
    with pytest.raises(ValueError, match="holiday or workday"):
        deadlines.load_supplement(notice)
    deadlines.configure_supplement({})
