"""Stations HTTP routes: stations, services, opening hours, search, notifications, figures."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import Query, Request, Response

from doorstep_shared.app import DbSession
from doorstep_shared.clock import local_today
from doorstep_shared.errors import Invalid
from doorstep_shared.http import check_if_match, not_modified, not_modified_response
from doorstep_shared.pagination import CursorParam, LimitParam, Page, decode_cursor, encode_cursor

from . import repository as repo
from . import service
from .deps import BookingsReader, Code, FiguresReader, Id, Manager, Now, Reader, api_router
from .http import problems, station_etag
from .models import ServiceKind
from .schemas import (
    MAX_YEAR,
    MIN_YEAR,
    FiguresRead,
    HoursExceptionCreate,
    HoursExceptionRead,
    HoursRead,
    HoursRuleCreate,
    HoursRuleRead,
    NotificationRead,
    ServiceCreate,
    ServiceRead,
    ServiceUpdate,
    StationCreate,
    StationHit,
    StationRead,
    StationUpdate,
)

router = api_router()


@router.get(
    "/stations",
    response_model=Page[StationHit],
    summary="Find stations: near a point, open now, by kind of service or keyword",
    tags=["stations"],
    responses=problems(403, 422),
)
async def search_stations(
    session: DbSession,
    _: Reader,
    now: Now,
    lat: Annotated[float | None, Query(ge=-90, le=90, description="Latitude of the point")] = None,
    lon: Annotated[float | None, Query(ge=-180, le=180, description="Longitude")] = None,
    radius_km: Annotated[float, Query(gt=0, le=100, description="Search radius")] = 5.0,
    open_now: Annotated[bool | None, Query(description="Only open (true) / closed (false)")] = None,
    kind: Annotated[ServiceKind | None, Query(description="Offers a service of this kind")] = None,
    q: Annotated[str | None, Query(max_length=64, description="Keyword: 汉字, pinyin or initials")] = None,
    community: Annotated[str | None, Query(max_length=64)] = None,
    cursor: CursorParam = None,
    limit: LimitParam = 50,
) -> Page[StationHit]:
    if (lat is None) != (lon is None):
        raise Invalid.field("query.lon" if lon is None else "query.lat", "give both lat and lon")
    offset = 0
    if cursor:
        values = decode_cursor(cursor, 1)
        if not values or not isinstance(values[0], int) or values[0] < 0:
            raise Invalid.field("query.cursor", "malformed cursor", code="invalid_cursor")
        offset = values[0]
    hits = await service.search_stations(
        session,
        service.StationQuery(lat, lon, radius_km, open_now, kind, q, community),
        now,
    )
    page = hits[offset : offset + limit]
    more = offset + limit < len(hits)
    return Page(items=page, next_cursor=encode_cursor([offset + limit]) if more else None)


@router.post(
    "/stations",
    response_model=StationRead,
    status_code=201,
    summary="Create a station (county admins; community admins in their community)",
    tags=["stations"],
    responses=problems(403, 409, 422),
)
async def create_station(
    session: DbSession, principal: Manager, body: StationCreate, response: Response
) -> StationRead:
    created = await service.create_station(session, principal, body)
    response.headers["ETag"] = station_etag(created)
    return created


@router.get(
    "/stations/{code}",
    response_model=StationRead,
    summary="One station with its featured services",
    tags=["stations"],
    responses=problems(304, 403, 404),
)
async def get_station(
    session: DbSession, _: Reader, request: Request, response: Response, code: Code
) -> StationRead | Response:
    station = await service.station_detail(session, code)
    etag = station_etag(station)
    if not_modified(request, etag):
        return not_modified_response(etag)
    response.headers["ETag"] = etag
    return station


@router.patch(
    "/stations/{code}",
    response_model=StationRead,
    summary="Update a station (its keepers, community admins, county admins; If-Match)",
    tags=["stations"],
    responses=problems(403, 404, 412, 422),
)
async def update_station(
    session: DbSession,
    principal: Manager,
    request: Request,
    response: Response,
    code: Code,
    body: StationUpdate,
) -> StationRead:
    current = await service.station_detail(session, code)
    check_if_match(request, station_etag(current))
    station = await service.get_station(session, code)
    updated = await service.update_station(session, principal, station, body)
    response.headers["ETag"] = station_etag(updated)
    return updated


# --- services -------------------------------------------------------------------------


@router.post(
    "/stations/{code}/services",
    response_model=ServiceRead,
    status_code=201,
    summary="Add a featured service to a station",
    tags=["services"],
    responses=problems(403, 404, 409, 422),
)
async def create_service(session: DbSession, principal: Manager, code: Code, body: ServiceCreate) -> ServiceRead:
    station = await service.get_station(session, code)
    return await service.create_service(session, principal, station, body)


@router.patch(
    "/stations/{code}/services/{service_code}",
    response_model=ServiceRead,
    summary="Update a station's service",
    tags=["services"],
    responses=problems(403, 404, 412, 422),
)
async def update_service(
    session: DbSession,
    principal: Manager,
    request: Request,
    code: Code,
    service_code: Code,
    body: ServiceUpdate,
) -> ServiceRead:
    check_if_match(request, station_etag(await service.station_detail(session, code)))
    station = await service.get_station(session, code)
    svc = await service.get_service(session, station, service_code)
    return await service.update_service(session, principal, station, svc, body)


# --- hours ----------------------------------------------------------------------------


@router.get(
    "/stations/{code}/hours",
    response_model=HoursRead,
    summary="Opening hours: rules, exceptions, open at a time (default now), next opening, a week",
    tags=["hours"],
    responses=problems(403, 404, 422),
)
async def get_hours(
    session: DbSession,
    _: Reader,
    now: Now,
    code: Code,
    service_code: Annotated[str | None, Query(alias="service", max_length=64)] = None,
    at: Annotated[dt.datetime | None, Query(description="Instant to evaluate (ISO 8601 with offset)")] = None,
) -> HoursRead:
    if at is not None and at.tzinfo is None:
        raise Invalid.field("query.at", "needs a timezone offset, e.g. +08:00")
    if at is not None and not MIN_YEAR <= at.year <= MAX_YEAR:
        raise Invalid.field("query.at", f"must be between {MIN_YEAR} and {MAX_YEAR}")
    station = await service.get_station(session, code)
    return await service.get_hours(session, station, service_code, at or now)


@router.post(
    "/stations/{code}/hours/rules",
    response_model=list[HoursRuleRead],
    status_code=201,
    summary="Add a weekly opening window on some weekdays (optionally from/to dates)",
    tags=["hours"],
    responses=problems(403, 404, 422),
)
async def add_rules(session: DbSession, principal: Manager, code: Code, body: HoursRuleCreate) -> list[HoursRuleRead]:
    station = await service.get_station(session, code)
    return await service.add_rules(session, principal, station, body)


@router.delete(
    "/stations/{code}/hours/rules/{rule_id}",
    status_code=204,
    summary="Remove a weekly opening rule",
    tags=["hours"],
    responses=problems(403, 404),
)
async def delete_rule(session: DbSession, principal: Manager, code: Code, rule_id: Id) -> Response:
    station = await service.get_station(session, code)
    await service.delete_rule(session, principal, station, rule_id)
    return Response(status_code=204)


@router.post(
    "/stations/{code}/hours/exceptions",
    response_model=HoursExceptionRead,
    status_code=201,
    summary="Add a closure (holiday) or an extra opening",
    tags=["hours"],
    responses=problems(403, 404, 422),
)
async def add_exception(
    session: DbSession, principal: Manager, code: Code, body: HoursExceptionCreate
) -> HoursExceptionRead:
    station = await service.get_station(session, code)
    return await service.add_exception(session, principal, station, body)


@router.delete(
    "/stations/{code}/hours/exceptions/{exception_id}",
    status_code=204,
    summary="Remove an opening-hours exception",
    tags=["hours"],
    responses=problems(403, 404),
)
async def delete_exception(session: DbSession, principal: Manager, code: Code, exception_id: Id) -> Response:
    station = await service.get_station(session, code)
    await service.delete_exception(session, principal, station, exception_id)
    return Response(status_code=204)


# --- notifications and figures --------------------------------------------------------


@router.get(
    "/notifications",
    response_model=Page[NotificationRead],
    summary="Messages sent to residents (development notifier log), newest first",
    tags=["notifications"],
    responses=problems(403, 404, 422),
)
async def list_notifications(
    session: DbSession,
    principal: BookingsReader,
    station: Annotated[str | None, Query(max_length=64)] = None,
    cursor: CursorParam = None,
    limit: LimitParam = 50,
) -> Page[NotificationRead]:
    station_id = None
    if station:
        station_id = (await service.get_station(session, station)).id
    values = decode_cursor(cursor, 1)
    before = int(values[0]) if values and isinstance(values[0], int) else None
    rows = list(
        await repo.list_notifications(
            session,
            principal.visible_communities,
            station_id=station_id,
            before_id=before,
            limit=limit,
        )
    )
    more = len(rows) > limit
    rows = rows[:limit]
    codes = {
        s.id: s.code
        for s in (await repo.stations_by_ids(session, {n.station_id for n in rows if n.station_id})).values()
    }
    items = [
        NotificationRead(
            id=n.id or 0,
            station_code=codes.get(n.station_id),
            community=n.community,
            kind=n.kind,
            channel=n.channel,
            recipient=n.recipient_masked,
            text=n.text,
            created_at=n.created_at,
        )
        for n in rows
    ]
    return Page(items=items, next_cursor=encode_cursor([rows[-1].id]) if more and rows else None)


@router.get(
    "/figures",
    response_model=FiguresRead,
    summary="People served per station: attended seats and collected drop-offs, turnaround",
    tags=["figures"],
    responses=problems(403, 404, 422),
)
async def figures(
    session: DbSession,
    principal: FiguresReader,
    now: Now,
    from_date: Annotated[dt.date | None, Query(alias="from")] = None,
    to_date: Annotated[dt.date | None, Query(alias="to")] = None,
    community: Annotated[str | None, Query(max_length=64)] = None,
) -> FiguresRead:
    for name, value in (("query.from", from_date), ("query.to", to_date)):
        if value is not None and not MIN_YEAR <= value.year <= MAX_YEAR:
            raise Invalid.field(name, f"must be between {MIN_YEAR} and {MAX_YEAR}")
    today = local_today(now)
    start = from_date or today.replace(day=1)
    end = to_date or today
    return await service.figures(session, principal, start, end, community)
