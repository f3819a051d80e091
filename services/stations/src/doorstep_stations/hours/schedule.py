"""Opening hours as pure functions: weekly schedules with effective dates, dated exceptions.

Semantics (all in Asia/Shanghai):
- Weekly rules that share an ``effective_from`` form one *schedule*. On a given day the
  schedule in force is the one with the latest ``effective_from`` on or before that day (a
  rule without one has been in force forever) whose rules have not ended (``effective_to``).
  So "from 1 July, Monday to Friday all day" is written as new rules from 1 July; the old
  "Thursdays only" rules stop applying on that day without being edited.
- A service with rules of its own follows them; otherwise it follows its station's rules.
- Exceptions: ``closed`` (a whole day, or a window if ``opens``/``closes`` are given) and
  ``open`` (an extra opening window) over a date range. A station's exceptions apply to all
  its services; a service's only to it. Closures win over openings.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from doorstep_shared.clock import SHANGHAI

Interval = tuple[dt.time, dt.time]
Days = Callable[["Schedule", dt.date], Sequence[Interval]]  # ``intervals_on``, or a memo of it


@dataclass(frozen=True)
class WeeklyRule:
    weekday: int
    opens: dt.time
    closes: dt.time
    effective_from: dt.date | None = None
    effective_to: dt.date | None = None


@dataclass(frozen=True)
class DatedException:
    kind: str  # "closed" | "open"
    start_date: dt.date
    end_date: dt.date
    opens: dt.time | None = None
    closes: dt.time | None = None
    reason: str = ""


@dataclass(frozen=True)
class Schedule:
    rules: Sequence[WeeklyRule]
    exceptions: Sequence[DatedException]


def _started(rule: WeeklyRule, day: dt.date) -> bool:
    return (rule.effective_from is None or rule.effective_from <= day) and (
        rule.effective_to is None or day <= rule.effective_to
    )


def _merge(intervals: Iterable[Interval]) -> list[Interval]:
    out: list[Interval] = []
    for start, end in sorted(intervals):
        if out and start <= out[-1][1]:
            if end > out[-1][1]:
                out[-1] = (out[-1][0], end)
        else:
            out.append((start, end))
    return out


def _subtract(intervals: list[Interval], cut: Interval) -> list[Interval]:
    out: list[Interval] = []
    for start, end in intervals:
        if cut[1] <= start or end <= cut[0]:
            out.append((start, end))
            continue
        if start < cut[0]:
            out.append((start, cut[0]))
        if cut[1] < end:
            out.append((cut[1], end))
    return out


def intervals_on(schedule: Schedule, day: dt.date) -> list[Interval]:
    """The opening windows on one local day, merged and sorted."""
    in_force = [r for r in schedule.rules if _started(r, day)]
    base: list[Interval] = []
    if in_force:
        latest = max(r.effective_from or dt.date.min for r in in_force)
        base = [
            (r.opens, r.closes)
            for r in in_force
            if (r.effective_from or dt.date.min) == latest and r.weekday == day.weekday()
        ]
    todays = [e for e in schedule.exceptions if e.start_date <= day <= e.end_date]
    extra = [(e.opens, e.closes) for e in todays if e.kind == "open" and e.opens is not None and e.closes is not None]
    result = _merge([*base, *extra])
    for e in todays:
        if e.kind != "closed":
            continue
        if e.opens is None or e.closes is None:
            return []
        result = _subtract(result, (e.opens, e.closes))
    return result


def _local(day: dt.date, t: dt.time) -> dt.datetime:
    return dt.datetime.combine(day, t, tzinfo=SHANGHAI)


@dataclass(frozen=True)
class OpenState:
    open_now: bool
    open_until: dt.datetime | None
    next_opens_at: dt.datetime | None
    next_closes_at: dt.datetime | None


def state_at(schedule: Schedule, at: dt.datetime, horizon_days: int = 400, days: Days = intervals_on) -> OpenState:
    """Is it open at ``at``, until when, and when does it next open (local times). ``days``
    gives a day's windows (``intervals_on``; the snapshot passes its memo of it)."""
    local = at.astimezone(SHANGHAI)
    today = local.date()
    open_until: dt.datetime | None = None
    for start, end in days(schedule, today):
        if _local(today, start) <= local < _local(today, end):
            open_until = _local(today, end)
    for offset in range(horizon_days + 1):
        day = today + dt.timedelta(days=offset)
        for start, end in days(schedule, day):
            opens = _local(day, start)
            if opens > local:
                return OpenState(open_until is not None, open_until, opens, _local(day, end))
    return OpenState(open_until is not None, open_until, None, None)


def is_open(schedule: Schedule, at: dt.datetime) -> bool:
    local = at.astimezone(SHANGHAI)
    return any(
        _local(local.date(), s) <= local < _local(local.date(), e) for s, e in intervals_on(schedule, local.date())
    )


def week_of(
    schedule: Schedule, start: dt.date, days: int = 7, windows: Days = intervals_on
) -> list[tuple[dt.date, Sequence[Interval]]]:
    return [(start + dt.timedelta(days=i), windows(schedule, start + dt.timedelta(days=i))) for i in range(days)]


def _ranges_overlap(a: WeeklyRule, b: WeeklyRule) -> bool:
    a_from, b_from = a.effective_from or dt.date.min, b.effective_from or dt.date.min
    a_to, b_to = a.effective_to or dt.date.max, b.effective_to or dt.date.max
    return a_from <= b_to and b_from <= a_to


def find_overlap(new: WeeklyRule, existing: Iterable[WeeklyRule]) -> WeeklyRule | None:
    """An existing rule of the same schedule and weekday whose window overlaps ``new``."""
    for rule in existing:
        if (
            rule.weekday == new.weekday
            and rule.effective_from == new.effective_from
            and _ranges_overlap(rule, new)
            and rule.opens < new.closes
            and new.opens < rule.closes
        ):
            return rule
    return None
