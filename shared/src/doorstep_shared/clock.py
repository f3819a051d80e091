"""Time: instants are UTC; dates people read ("today", opening hours) are Asia/Shanghai."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def local_today(now: dt.datetime | None = None) -> dt.date:
    return (now or utcnow()).astimezone(SHANGHAI).date()


def to_local(instant: dt.datetime) -> dt.datetime:
    return instant.astimezone(SHANGHAI)
