"""The stations' hot reads as they were before the snapshot (issue #23 part 3, finding 2): the
routes' old handlers — a database session per request, every station, service, rule and
exception read as ORM objects, response models validated and dumped — mounted beside the app's
own under ``/bench/model/…``, so that ``bench/profile_stations_read.py`` measures both paths in
one process, one run. The services they call are the app's model path, kept as the reference the
snapshot's answers are tested against (``tests/stations/snapshot``)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Query, Request, Response

from doorstep_shared.app import DbSession
from doorstep_shared.auth.security import current_principal
from doorstep_shared.http import not_modified, not_modified_response
from doorstep_shared.http.errors import Invalid
from doorstep_shared.http.pagination import CursorParam, LimitParam, Page, cursor_int, encode_cursor, read_cursor
from doorstep_stations.deps import Code, CurrentDirectory, Now, Reader
from doorstep_stations.hours import service as hours_service
from doorstep_stations.hours.schemas import HoursRead
from doorstep_stations.http import station_etag
from doorstep_stations.search import service as search_service
from doorstep_stations.search.schemas import StationHit
from doorstep_stations.stations import service as stations_service
from doorstep_stations.stations.models import ServiceKind
from doorstep_stations.stations.schemas import StationRead

PREFIX = "/bench/model"
router = APIRouter(prefix=PREFIX, dependencies=[Depends(current_principal)], include_in_schema=False)


@router.get("/stations", response_model=Page[StationHit])
async def search_stations(
    session: DbSession,
    _: Reader,
    now: Now,
    directory: CurrentDirectory,
    lat: Annotated[float | None, Query(ge=-90, le=90)] = None,
    lon: Annotated[float | None, Query(ge=-180, le=180)] = None,
    radius_km: Annotated[float, Query(gt=0, le=100)] = 5.0,
    open_now: bool | None = None,
    kind: ServiceKind | None = None,
    q: Annotated[str | None, Query(max_length=64)] = None,
    community: Annotated[str | None, Query(max_length=64)] = None,
    cursor: CursorParam = None,
    limit: LimitParam = 50,
) -> Page[StationHit]:
    if (lat is None) != (lon is None):
        raise Invalid.field("query.lon" if lon is None else "query.lat", "give both lat and lon")
    values = read_cursor(cursor, cursor_int)
    offset = values[0] if values else 0
    query = search_service.StationQuery(lat, lon, radius_km, open_now, kind, q, community)
    hits = await search_service.search_stations(session, query, now, directory)
    page = hits[offset : offset + limit]
    more = offset + limit < len(hits)
    return Page(items=page, next_cursor=encode_cursor([offset + limit]) if more else None)


@router.get("/stations/{code}", response_model=StationRead)
async def get_station(
    session: DbSession, _: Reader, request: Request, response: Response, code: Code
) -> StationRead | Response:
    station = await stations_service.station_detail(session, code)
    etag = station_etag(station)
    if not_modified(request, etag):
        return not_modified_response(etag)
    response.headers["ETag"] = etag
    return station


@router.get("/stations/{code}/hours", response_model=HoursRead)
async def get_hours(
    session: DbSession,
    _: Reader,
    now: Now,
    code: Code,
    service_code: Annotated[str | None, Query(alias="service", max_length=64)] = None,
    at: dt.datetime | None = None,
) -> HoursRead:
    return await hours_service.get_hours(session, code, service_code, at or now)


def install(app: FastAPI) -> None:
    app.include_router(router)
