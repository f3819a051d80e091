"""Opening-hours rules: a station's (or service's) weekly rules and dated exceptions, the hours
they make, and whether a station is open at an instant. The calendar logic itself is the pure
``schedule`` module."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from sqlmodel.ext.asyncio.session import AsyncSession

from doorstep_shared.auth.tokens import Principal
from doorstep_shared.clock import SHANGHAI
from doorstep_shared.http.errors import Invalid, NotFound

from ..stations import service as stations_service
from ..tenancy import ensure_manage
from . import repository as repo
from . import schedule as h
from .models import ExceptionKind, HoursException, HoursRule
from .schemas import (
    DayHours,
    HoursExceptionCreate,
    HoursExceptionRead,
    HoursRead,
    HoursRuleCreate,
    HoursRuleRead,
    OpenStateRead,
    Window,
)


def _weekly(r: HoursRule) -> h.WeeklyRule:
    return h.WeeklyRule(r.weekday, r.opens, r.closes, r.effective_from, r.effective_to)


def _dated(e: HoursException) -> h.DatedException:
    return h.DatedException(e.kind, e.start_date, e.end_date, e.opens, e.closes, e.reason)


def schedule_for(
    rules: Sequence[HoursRule], exceptions: Sequence[HoursException], service_id: int | None
) -> h.Schedule:
    """A service follows its own rules if it has any, else its station's; closures stack."""
    own = [r for r in rules if r.service_id == service_id]
    if service_id is not None and not own:
        own = [r for r in rules if r.service_id is None]
    excs = [e for e in exceptions if e.service_id is None or e.service_id == service_id]
    return h.Schedule([_weekly(r) for r in own], [_dated(e) for e in excs])


def open_state(schedule: h.Schedule, at: dt.datetime) -> OpenStateRead:
    state = h.state_at(schedule, at)
    return OpenStateRead(
        at=at.astimezone(SHANGHAI),
        open_now=state.open_now,
        open_until=state.open_until,
        next_opens_at=state.next_opens_at,
        next_closes_at=state.next_closes_at,
    )


@dataclass(frozen=True)
class ShownHours:
    """A station's hours as ``GET …/hours`` lists them for one of its services (None: the
    station itself): the rules and exceptions that apply to it, and the schedule they make."""

    rules: list[HoursRuleRead]
    exceptions: list[HoursExceptionRead]
    schedule: h.Schedule


def shown_hours(
    rules: Sequence[HoursRule],
    exceptions: Sequence[HoursException],
    services: dict[int | None, str],
    service_id: int | None,
) -> ShownHours:
    """``rules`` and ``exceptions`` are all of one station's, ``services`` its service codes by id."""
    return ShownHours(
        rules=[rule_read(r, services) for r in rules if service_id is None or r.service_id in (None, service_id)],
        exceptions=[
            exception_read(e, services) for e in exceptions if service_id is None or e.service_id in (None, service_id)
        ],
        schedule=schedule_for(rules, exceptions, service_id),
    )


async def get_hours(session: AsyncSession, station_code: str, service_code: str | None, at: dt.datetime) -> HoursRead:
    """The hours from the database (the model path; the route answers from the snapshot,
    ``snapshot.reads.hours_body``, which must answer the same bytes)."""
    station = await stations_service.get_station(session, station_code)
    assert station.id is not None
    svc = await stations_service.get_service(session, station, service_code) if service_code else None
    services = {s.id: s.code for s in (await stations_service.services_of(session, [station.id]))[station.id]}
    rules = await repo.hours_rules(session, [station.id])
    exceptions = await repo.hours_exceptions(session, [station.id])
    shown = shown_hours(rules, exceptions, services, svc.id if svc else None)
    local_day = at.astimezone(SHANGHAI).date()
    return HoursRead(
        station_code=station.code,
        service_code=service_code,
        rules=shown.rules,
        exceptions=shown.exceptions,
        state=open_state(shown.schedule, at),
        week=[
            DayHours(date=day, windows=[Window(opens=o, closes=c) for o, c in windows])
            for day, windows in h.week_of(shown.schedule, local_day)
        ],
    )


def rule_read(r: HoursRule, services: dict[int | None, str]) -> HoursRuleRead:
    return HoursRuleRead(
        id=r.id or 0,
        service_code=services.get(r.service_id) if r.service_id else None,
        weekday=r.weekday,
        opens=r.opens,
        closes=r.closes,
        effective_from=r.effective_from,
        effective_to=r.effective_to,
    )


def exception_read(e: HoursException, services: dict[int | None, str]) -> HoursExceptionRead:
    return HoursExceptionRead(
        id=e.id or 0,
        service_code=services.get(e.service_id) if e.service_id else None,
        kind=ExceptionKind(e.kind),
        start_date=e.start_date,
        end_date=e.end_date,
        opens=e.opens,
        closes=e.closes,
        reason=e.reason,
    )


async def add_rules(
    session: AsyncSession, principal: Principal, station_code: str, data: HoursRuleCreate
) -> list[HoursRuleRead]:
    station = await stations_service.get_station(session, station_code)
    ensure_manage(principal, station)
    assert station.id is not None
    if data.closes <= data.opens:
        raise Invalid.field("body.closes", "must be after opens", code="hours_end_before_start")
    if data.effective_from and data.effective_to and data.effective_to < data.effective_from:
        raise Invalid.field("body.effective_to", "must not be before effective_from", code="hours_end_before_start")
    if len(set(data.weekdays)) != len(data.weekdays):
        raise Invalid.field("body.weekdays", "a weekday is listed twice")
    svc = await stations_service.get_service(session, station, data.service_code) if data.service_code else None
    service_id = svc.id if svc else None
    existing = [_weekly(r) for r in await repo.hours_rules(session, [station.id]) if r.service_id == service_id]
    created: list[HoursRule] = []
    for weekday in sorted(data.weekdays):
        new = h.WeeklyRule(weekday, data.opens, data.closes, data.effective_from, data.effective_to)
        clash = h.find_overlap(new, existing)
        if clash is not None:
            raise Invalid.field(
                "body.opens",
                f"overlaps the rule {clash.opens:%H:%M}–{clash.closes:%H:%M} on weekday {weekday}",
                code="hours_overlap",
            )
        rule = HoursRule(
            station_id=station.id,
            service_id=service_id,
            weekday=weekday,
            opens=data.opens,
            closes=data.closes,
            effective_from=data.effective_from,
            effective_to=data.effective_to,
        )
        session.add(rule)
        created.append(rule)
    await session.flush()
    await stations_service.bump_revision(session)
    codes: dict[int | None, str] = {service_id: svc.code} if svc else {}
    return [rule_read(r, codes) for r in created]


async def delete_rule(session: AsyncSession, principal: Principal, station_code: str, rule_id: int) -> None:
    station = await stations_service.get_station(session, station_code)
    ensure_manage(principal, station)
    assert station.id is not None
    if not await repo.delete_rule(session, station.id, rule_id):
        raise NotFound("Opening-hours rule not found.")
    await stations_service.bump_revision(session)


async def add_exception(
    session: AsyncSession, principal: Principal, station_code: str, data: HoursExceptionCreate
) -> HoursExceptionRead:
    station = await stations_service.get_station(session, station_code)
    ensure_manage(principal, station)
    assert station.id is not None
    if data.end_date < data.start_date:
        raise Invalid.field("body.end_date", "must not be before start_date", code="hours_end_before_start")
    if (data.opens is None) != (data.closes is None):
        raise Invalid.field("body.closes", "give both opens and closes, or neither")
    if data.opens is not None and data.closes is not None and data.closes <= data.opens:
        raise Invalid.field("body.closes", "must be after opens", code="hours_end_before_start")
    if data.kind == ExceptionKind.OPEN and data.opens is None:
        raise Invalid.field("body.opens", "an extra opening needs opens and closes")
    if (data.end_date - data.start_date).days > 366:
        raise Invalid.field("body.end_date", "an exception spans at most a year")
    svc = await stations_service.get_service(session, station, data.service_code) if data.service_code else None
    exc = HoursException(
        station_id=station.id,
        service_id=svc.id if svc else None,
        kind=data.kind,
        start_date=data.start_date,
        end_date=data.end_date,
        opens=data.opens,
        closes=data.closes,
        reason=data.reason,
    )
    session.add(exc)
    await session.flush()
    await stations_service.bump_revision(session)
    return exception_read(exc, {svc.id: svc.code} if svc else {})


async def delete_exception(session: AsyncSession, principal: Principal, station_code: str, exc_id: int) -> None:
    station = await stations_service.get_station(session, station_code)
    ensure_manage(principal, station)
    assert station.id is not None
    if not await repo.delete_exception(session, station.id, exc_id):
        raise NotFound("Opening-hours exception not found.")
    await stations_service.bump_revision(session)


@dataclass(frozen=True)
class StationsHours:
    """The rules and exceptions of several stations, read at once (for search)."""

    rules: dict[int, list[HoursRule]]
    exceptions: dict[int, list[HoursException]]

    def is_open(self, station_id: int, service_ids: Sequence[int | None], at: dt.datetime) -> bool:
        """Open at ``at``: the station itself (``None``) or any of the given services."""
        rules, exceptions = self.rules.get(station_id, []), self.exceptions.get(station_id, [])
        return any(h.is_open(schedule_for(rules, exceptions, sid), at) for sid in service_ids)


async def hours_of_stations(session: AsyncSession, station_ids: Collection[int] | None) -> StationsHours:
    """The rules and exceptions of ``station_ids`` (None: of every station), each station's in
    the order its hours answer them."""
    rules: Sequence[HoursRule] = []
    exceptions: Sequence[HoursException] = []
    if station_ids is None or station_ids:
        rules = await repo.hours_rules(session, station_ids)
        exceptions = await repo.hours_exceptions(session, station_ids)
    rules_by: dict[int, list[HoursRule]] = {}
    for r in rules:
        rules_by.setdefault(r.station_id, []).append(r)
    exc_by: dict[int, list[HoursException]] = {}
    for e in exceptions:
        exc_by.setdefault(e.station_id, []).append(e)
    return StationsHours(rules_by, exc_by)
