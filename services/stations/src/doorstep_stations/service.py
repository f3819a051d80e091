"""Stations rules: stations, their services, opening hours, search and figures."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass

from sqlmodel.ext.asyncio.session import AsyncSession

import doorstep_shared.org as org
from doorstep_shared.clock import SHANGHAI, utcnow
from doorstep_shared.errors import Conflict, Forbidden, Invalid, NotFound
from doorstep_shared.permissions import Role
from doorstep_shared.tokens import Principal

from . import hours as h
from . import repository as repo
from .models import (
    ExceptionKind,
    HoursException,
    HoursRule,
    Station,
    StationService,
    TicketStatus,
)
from .schemas import (
    DayHours,
    FiguresRead,
    HoursExceptionCreate,
    HoursExceptionRead,
    HoursRead,
    HoursRuleCreate,
    HoursRuleRead,
    OpenStateRead,
    ServiceCreate,
    ServiceRead,
    ServiceUpdate,
    StationCreate,
    StationFigures,
    StationHit,
    StationRead,
    StationUpdate,
    Window,
)
from .tenancy import ensure_manage
from .textmatch import keyword_scores

# --- reading --------------------------------------------------------------------------


def service_read(svc: StationService) -> ServiceRead:
    return ServiceRead.model_validate(svc, from_attributes=True)


def station_read(station: Station, services: Sequence[StationService]) -> StationRead:
    return StationRead(
        code=station.code,
        name=station.name,
        community=station.community,
        compound=station.compound,
        address=station.address,
        latitude=station.latitude,
        longitude=station.longitude,
        keepers=list(station.keepers),
        contact=station.contact,
        description=station.description,
        services=[service_read(s) for s in services],
        version=station.version,
    )


async def get_station(session: AsyncSession, code: str) -> Station:
    station = await repo.station_by_code(session, code)
    if station is None:
        raise NotFound(f"Station {code} not found.", code="station_not_found")
    return station


async def get_service(session: AsyncSession, station: Station, code: str) -> StationService:
    assert station.id is not None
    svc = await repo.service_by_code(session, station.id, code)
    if svc is None:
        raise NotFound(f"Service {code} not found at {station.code}.", code="service_not_found")
    return svc


async def station_detail(session: AsyncSession, code: str) -> StationRead:
    station = await get_station(session, code)
    assert station.id is not None
    services = (await repo.services_of(session, [station.id]))[station.id]
    return station_read(station, services)


# --- writing --------------------------------------------------------------------------


async def create_station(session: AsyncSession, principal: Principal, data: StationCreate) -> StationRead:
    if data.community not in org.COMMUNITY_BY_CODE:
        raise Invalid.field("body.community", "unknown community")
    allowed = Role.COUNTY_ADMIN in principal.roles or (
        Role.COMMUNITY_ADMIN in principal.roles and principal.community == data.community
    )
    if not allowed:
        raise Forbidden(
            "Only county admins and the community's admins create stations.",
            code="not_station_manager",
        )
    if await repo.station_by_code(session, data.code) is not None:
        raise Conflict(f"Station {data.code} exists.", code="station_exists")
    station = Station(**data.model_dump())
    session.add(station)
    await session.flush()
    return station_read(station, [])


async def update_station(
    session: AsyncSession, principal: Principal, station: Station, data: StationUpdate
) -> StationRead:
    ensure_manage(principal, station)
    changes = data.model_dump(exclude_unset=True)
    if (
        "keepers" in changes
        and Role.STATION_KEEPER in principal.roles
        and not (principal.roles & {Role.COMMUNITY_ADMIN, Role.COUNTY_ADMIN})
    ):
        raise Forbidden("Keepers cannot change who keeps a station.", code="keepers_admin_only")
    for key, value in changes.items():
        if value is None:
            raise Invalid.field(f"body.{key}", "may not be null")
        setattr(station, key, value)
    station.version += 1
    station.updated_at = utcnow()
    session.add(station)
    await session.flush()
    return await station_detail(session, station.code)


async def create_service(
    session: AsyncSession, principal: Principal, station: Station, data: ServiceCreate
) -> ServiceRead:
    ensure_manage(principal, station)
    assert station.id is not None
    if await repo.service_by_code(session, station.id, data.code) is not None:
        raise Conflict(f"Service {data.code} exists at {station.code}.", code="service_exists")
    svc = StationService(station_id=station.id, **data.model_dump())
    session.add(svc)
    await session.flush()
    return service_read(svc)


async def update_service(
    session: AsyncSession,
    principal: Principal,
    station: Station,
    svc: StationService,
    data: ServiceUpdate,
) -> ServiceRead:
    ensure_manage(principal, station)
    for key, value in data.model_dump(exclude_unset=True).items():
        if value is None:
            raise Invalid.field(f"body.{key}", "may not be null")
        setattr(svc, key, value)
    svc.version += 1
    svc.updated_at = utcnow()
    session.add(svc)
    await session.flush()
    return service_read(svc)


# --- opening hours --------------------------------------------------------------------


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


async def get_hours(session: AsyncSession, station: Station, service_code: str | None, at: dt.datetime) -> HoursRead:
    assert station.id is not None
    svc = await get_service(session, station, service_code) if service_code else None
    services = {s.id: s.code for s in (await repo.services_of(session, [station.id]))[station.id]}
    rules = await repo.hours_rules(session, [station.id])
    exceptions = await repo.hours_exceptions(session, [station.id])
    service_id = svc.id if svc else None
    schedule = schedule_for(rules, exceptions, service_id)
    local_day = at.astimezone(SHANGHAI).date()
    return HoursRead(
        station_code=station.code,
        service_code=service_code,
        rules=[_rule_read(r, services) for r in rules if service_id is None or r.service_id in (None, service_id)],
        exceptions=[
            _exception_read(e, services) for e in exceptions if service_id is None or e.service_id in (None, service_id)
        ],
        state=open_state(schedule, at),
        week=[
            DayHours(date=day, windows=[Window(opens=o, closes=c) for o, c in windows])
            for day, windows in h.week_of(schedule, local_day)
        ],
    )


def _rule_read(r: HoursRule, services: dict[int | None, str]) -> HoursRuleRead:
    return HoursRuleRead(
        id=r.id or 0,
        service_code=services.get(r.service_id) if r.service_id else None,
        weekday=r.weekday,
        opens=r.opens,
        closes=r.closes,
        effective_from=r.effective_from,
        effective_to=r.effective_to,
    )


def _exception_read(e: HoursException, services: dict[int | None, str]) -> HoursExceptionRead:
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
    session: AsyncSession, principal: Principal, station: Station, data: HoursRuleCreate
) -> list[HoursRuleRead]:
    ensure_manage(principal, station)
    assert station.id is not None
    if data.closes <= data.opens:
        raise Invalid.field("body.closes", "must be after opens", code="hours_end_before_start")
    if data.effective_from and data.effective_to and data.effective_to < data.effective_from:
        raise Invalid.field("body.effective_to", "must not be before effective_from", code="hours_end_before_start")
    if len(set(data.weekdays)) != len(data.weekdays):
        raise Invalid.field("body.weekdays", "a weekday is listed twice")
    svc = await get_service(session, station, data.service_code) if data.service_code else None
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
    codes: dict[int | None, str] = {service_id: svc.code} if svc else {}
    return [_rule_read(r, codes) for r in created]


async def delete_rule(session: AsyncSession, principal: Principal, station: Station, rule_id: int) -> None:
    ensure_manage(principal, station)
    assert station.id is not None
    if not await repo.delete_rule(session, station.id, rule_id):
        raise NotFound("Opening-hours rule not found.")


async def add_exception(
    session: AsyncSession, principal: Principal, station: Station, data: HoursExceptionCreate
) -> HoursExceptionRead:
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
    svc = await get_service(session, station, data.service_code) if data.service_code else None
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
    return _exception_read(exc, {svc.id: svc.code} if svc else {})


async def delete_exception(session: AsyncSession, principal: Principal, station: Station, exc_id: int) -> None:
    ensure_manage(principal, station)
    assert station.id is not None
    if not await repo.delete_exception(session, station.id, exc_id):
        raise NotFound("Opening-hours exception not found.")


# --- search ---------------------------------------------------------------------------

EARTH_RADIUS_KM = 6371.0088


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


@dataclass(frozen=True)
class StationQuery:
    lat: float | None = None
    lon: float | None = None
    radius_km: float = 5.0
    open_now: bool | None = None
    kind: str | None = None
    q: str | None = None
    community: str | None = None


async def search_stations(session: AsyncSession, query: StationQuery, now: dt.datetime) -> list[StationHit]:
    """Stations near a point (box in SQL, exact distance here), open now, by kind or keyword."""
    bbox = None
    near = query.lat is not None and query.lon is not None
    if query.lat is not None and query.lon is not None:
        dlat = query.radius_km / 111.0
        dlon = query.radius_km / (111.0 * max(0.01, math.cos(math.radians(query.lat))))
        bbox = (query.lat - dlat, query.lat + dlat, query.lon - dlon, query.lon + dlon)
    stations = await repo.list_stations(session, community=query.community, bbox=bbox)
    ids = [s.id for s in stations if s.id is not None]
    services = await repo.services_of(session, ids)
    rules: Sequence[HoursRule] = []
    exceptions: Sequence[HoursException] = []
    if ids:
        rules = await repo.hours_rules(session, ids)
        exceptions = await repo.hours_exceptions(session, ids)
    rules_by: dict[int, list[HoursRule]] = {}
    for r in rules:
        rules_by.setdefault(r.station_id, []).append(r)
    exc_by: dict[int, list[HoursException]] = {}
    for e in exceptions:
        exc_by.setdefault(e.station_id, []).append(e)
    scores: dict[str, float] | None = None
    if query.q:
        docs = []
        for s in stations:
            svcs = [x for x in services.get(s.id or 0, []) if x.active]
            compound = org.COMPOUND_BY_CODE.get(s.compound)
            names = (s.name, compound.name) if compound else (s.name,)
            docs.append(
                (
                    s.code,
                    {
                        "name": names,
                        "services": tuple(x.name for x in svcs),
                        "other": (s.address, s.description, *(x.description for x in svcs)),
                    },
                )
            )
        scores = keyword_scores(query.q, docs)
    hits: list[StationHit] = []
    for station in stations:
        assert station.id is not None
        svcs = [s for s in services.get(station.id, []) if s.active]
        distance = None
        if query.lat is not None and query.lon is not None:
            distance = haversine_km(query.lat, query.lon, station.latitude, station.longitude)
            if distance > query.radius_km:
                continue
        if query.kind and not any(s.kind == query.kind for s in svcs):
            continue
        if scores is not None and station.code not in scores:
            continue
        st_rules, st_exc = rules_by.get(station.id, []), exc_by.get(station.id, [])
        open_now = h.is_open(schedule_for(st_rules, st_exc, None), now) or any(
            h.is_open(schedule_for(st_rules, st_exc, s.id), now) for s in svcs
        )
        if query.open_now is not None and open_now != query.open_now:
            continue
        base = station_read(station, services.get(station.id, []))
        hits.append(
            StationHit(
                **base.model_dump(),
                distance_km=round(distance, 3) if distance is not None else None,
                open_now=open_now,
            )
        )
    if near:
        hits.sort(key=lambda hit: (hit.distance_km or 0.0, hit.code))
    elif scores is not None:
        ranked = scores
        hits.sort(key=lambda hit: (-ranked[hit.code], hit.code))
    return hits


# --- figures --------------------------------------------------------------------------


async def figures(
    session: AsyncSession,
    principal: Principal,
    from_date: dt.date,
    to_date: dt.date,
    community: str | None,
) -> FiguresRead:
    if to_date < from_date:
        raise Invalid.field("query.to", "must not be before from")
    if (to_date - from_date).days > 3660:
        raise Invalid.field("query.to", "a period spans at most ten years")
    visible = principal.visible_communities
    if community is not None:
        if visible is not None and community not in visible:
            raise NotFound("Community not found.")
        visible = frozenset({community})
    start = dt.datetime.combine(from_date, dt.time(0), tzinfo=SHANGHAI)
    end = dt.datetime.combine(to_date + dt.timedelta(days=1), dt.time(0), tzinfo=SHANGHAI)
    per_station = await repo.session_figures(session, start, end, visible)
    tickets = await repo.tickets_in_period(session, start, end, visible)
    ticket_figs: dict[int, dict[str, float]] = {}
    for t in tickets:
        f = ticket_figs.setdefault(t.station_id, {})
        f["received"] = f.get("received", 0) + 1
        if t.status == TicketStatus.COLLECTED and t.closed_at is not None:
            f["collected"] = f.get("collected", 0) + 1
            f["hours"] = f.get("hours", 0.0) + (t.closed_at - t.received_at).total_seconds() / 3600
        if t.status == TicketStatus.RETURNED:
            f["returned"] = f.get("returned", 0) + 1
    ids = set(per_station) | set(ticket_figs)
    stations = await repo.stations_by_ids(session, ids)
    rows: list[StationFigures] = []
    for sid in sorted(ids, key=lambda i: stations[i].code if i in stations else ""):
        if sid not in stations:
            continue
        s, tf = per_station.get(sid, {}), ticket_figs.get(sid, {})
        collected = int(tf.get("collected", 0))
        attended = s.get("seats_attended", 0)
        rows.append(
            StationFigures(
                station_code=stations[sid].code,
                station_name=stations[sid].name,
                community=stations[sid].community,
                sessions_held=s.get("sessions_held", 0),
                sessions_cancelled=s.get("sessions_cancelled", 0),
                seats_booked=s.get("seats_booked", 0),
                seats_attended=attended,
                no_shows=s.get("no_shows", 0),
                tickets_received=int(tf.get("received", 0)),
                tickets_collected=collected,
                tickets_returned=int(tf.get("returned", 0)),
                avg_turnaround_hours=round(tf["hours"] / collected, 2) if collected else None,
                people_served=attended + collected,
            )
        )
    return FiguresRead(
        from_date=from_date,
        to_date=to_date,
        stations=rows,
        total_people_served=sum(r.people_served for r in rows),
    )
