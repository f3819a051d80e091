"""Working-day deadlines: China's statutory holidays and adjusted working days (调休).

``chinese_calendar`` ships the State Council's yearly holiday notices. The notice for a year
comes out in the November before it, and the library's release some time after; in between an
operator can load the notice's days from a CSV (``DOORSTEP_PROXY_HOLIDAYS_FILE``, see
:func:`load_supplement`), which wins over the library. For a year neither covers (the library
raises ``NotImplementedError``) we fall back to Monday–Friday, which is what a notice amounts to
outside the holiday weeks; the fallback is reported so a due date computed on it can be shown
as provisional.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import logging
from dataclasses import dataclass
from pathlib import Path

import chinese_calendar

from doorstep_shared.clock import local_today

logger = logging.getLogger("doorstep.proxy")

DUE_SOON_DAYS = 3  # working days

_supplement: dict[dt.date, bool] = {}  # day → is a working day, from the operator's file


def load_supplement(path: Path) -> int:
    """Read ``date,kind[,name]`` rows (kind ``holiday`` or ``workday``); they override the library.

    Returns the number of days read. A malformed file fails start-up with the line it choked on.
    """
    days: dict[dt.date, bool] = {}
    with path.open(encoding="utf-8-sig", newline="") as fh:
        for line, row in enumerate(csv.reader(fh), start=1):
            if not row or row[0].strip().startswith("#") or row[0].strip() == "date":
                continue
            try:
                day = dt.date.fromisoformat(row[0].strip())
                kind = row[1].strip()
            except (ValueError, IndexError) as exc:
                raise ValueError(f"{path}:{line}: expected date,kind[,name]") from exc
            if kind not in ("holiday", "workday"):
                raise ValueError(f"{path}:{line}: kind must be holiday or workday, not {kind!r}")
            days[day] = kind == "workday"
    configure_supplement(days)
    return len(days)


def configure_supplement(days: dict[dt.date, bool]) -> None:
    """Install the operator's days (empty: the library alone)."""
    _supplement.clear()
    _supplement.update(days)
    is_workday.cache_clear()


def last_official_year() -> int:
    """The last year the library or the supplement covers; later due dates are provisional."""
    library: dt.date = max(chinese_calendar.constants.holidays)
    return max([library.year, *(d.year for d in _supplement)])


def load_holiday_calendar(holidays_file: Path | None) -> None:
    """At start-up: the operator's holiday notice, if any; say when due dates are about to become
    provisional."""
    configure_supplement({})
    if holidays_file is not None:
        days = load_supplement(holidays_file)
        logger.info("holiday notice loaded", extra={"file": str(holidays_file), "days": days})
    known = last_official_year()
    if local_today() >= dt.date(known, 11, 1):  # the next year's notice is usually out by then
        logger.warning(
            "the holiday calendar ends with %d: due dates after it count Monday to Friday (provisional) "
            "until chinese-calendar is upgraded or DOORSTEP_PROXY_HOLIDAYS_FILE lists the next notice",
            known,
        )


@functools.lru_cache(maxsize=4096)
def is_workday(day: dt.date) -> tuple[bool, bool]:
    """(is a working day, decided by an official calendar rather than the Mon–Fri fallback).

    Cached: the library scans its whole holiday table on every call.
    """
    if day in _supplement:
        return _supplement[day], True
    if day.year > max(chinese_calendar.constants.holidays).year and any(d.year == day.year for d in _supplement):
        return day.weekday() < 5, True  # a year the operator loaded: the notice lists every exception
    try:
        return bool(chinese_calendar.is_workday(day)), True
    except NotImplementedError:
        return day.weekday() < 5, False


@dataclass(frozen=True)
class Due:
    date: dt.date
    official: bool  # every day counted came from the official calendar


def add_working_days(start: dt.date, days: int) -> Due:
    """The ``days``-th working day after ``start`` (the intake day itself is not counted)."""
    if days < 0:
        raise ValueError("days must be ≥ 0")
    day = start
    official = True
    counted = 0
    while counted < days:
        day += dt.timedelta(days=1)
        work, known = is_workday(day)
        official = official and known
        if work:
            counted += 1
    return Due(day, official)


def working_days_between(start: dt.date, end: dt.date) -> int:
    """Working days in (start, end]; negative when end is before start."""
    if end < start:
        return -working_days_between(end, start)
    count = 0
    day = start
    while day < end:
        day += dt.timedelta(days=1)
        if is_workday(day)[0]:
            count += 1
    return count


def time_limit(snapshot: dict[str, object]) -> tuple[int | None, str | None]:
    """(working days, basis) from an item snapshot: the promised limit, else the statutory one."""
    for basis in ("promised", "statutory"):
        value = snapshot.get(f"{basis}_days")
        if isinstance(value, int) and value >= 0:
            return value, basis
    return None, None


def flags(due_date: dt.date | None, today: dt.date, open_: bool) -> tuple[bool, bool]:
    """(overdue, due soon) for an open case on ``today`` (Asia/Shanghai)."""
    if not open_ or due_date is None:
        return False, False
    if due_date < today:
        return True, False
    if (due_date - today).days > 20:  # no holiday stretch makes 3 working days that long
        return False, False
    return False, working_days_between(today, due_date) <= DUE_SOON_DAYS


def due_soon_horizon(today: dt.date) -> dt.date:
    """The last due date still counted as "due soon" on ``today``."""
    return add_working_days(today, DUE_SOON_DAYS).date
