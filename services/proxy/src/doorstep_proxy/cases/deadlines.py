"""Working-day deadlines: China's statutory holidays and adjusted working days (调休).

``chinese_calendar`` ships the State Council's yearly holiday notices; for years it does not
cover yet (it raises ``NotImplementedError``) we fall back to Monday–Friday, which is what the
notice usually amounts to outside the holiday weeks. The fallback is reported so a due date
computed on it can be shown as provisional.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass

import chinese_calendar

DUE_SOON_DAYS = 3  # working days


@functools.lru_cache(maxsize=4096)
def is_workday(day: dt.date) -> tuple[bool, bool]:
    """(is a working day, decided by the official calendar rather than the Mon–Fri fallback).

    Cached: the library scans its whole holiday table on every call.
    """
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
