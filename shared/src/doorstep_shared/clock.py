"""Time: instants are UTC; dates people read ("today", opening hours) are Asia/Shanghai.

This module is the one door to the wall clock: application code asks it for "now" and "today"
and never calls ``datetime.now()``, ``date.today()`` or ``time.time()`` itself (a test guards
that), so a test can move time for the whole process (``pytest --at=…``, time-machine) or run
it under libfaketime, and every reader agrees on the date.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def epoch_seconds() -> float:
    """Now as a POSIX timestamp (token ``iat``/``exp``)."""
    return utcnow().timestamp()


def local_today(now: dt.datetime | None = None) -> dt.date:
    return (now or utcnow()).astimezone(SHANGHAI).date()


def to_local(instant: dt.datetime) -> dt.datetime:
    return instant.astimezone(SHANGHAI)
