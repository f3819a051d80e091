"""Stations routes: a station with its featured services (read, create, update)."""

from __future__ import annotations

from fastapi import Request, Response

from doorstep_shared.app import DbSession
from doorstep_shared.http import NOT_MODIFIED, check_if_match, not_modified, not_modified_response, problems

from ..deps import Code, CurrentDirectory, KeepersFollowStaff, Manager, Reader, api_router, served
from ..http import station_etag
from ..snapshot import reads
from . import service
from .schemas import ServiceCreate, ServiceRead, ServiceUpdate, StationCreate, StationRead, StationUpdate

router = api_router()


@router.post(
    "/stations",
    response_model=StationRead,
    status_code=201,
    summary="Create a station (county admins; community admins in their community)",
    description="`keepers`: when the stations follow the gateway's staff roster (as deployed), a station's "
    "keepers are the station keepers whose staff record lists it (`stations`, `/api/v1/staff`), and sending "
    "`keepers` here is 409 `keepers_follow_staff`.",
    tags=["stations"],
    responses=problems(403, 409, 422),
)
async def create_station(
    session: DbSession,
    principal: Manager,
    directory: CurrentDirectory,
    body: StationCreate,
    response: Response,
    follow_staff: KeepersFollowStaff,
) -> StationRead:
    created = await service.create_station(session, principal, directory, body, keepers_follow_staff=follow_staff)
    response.headers["ETag"] = station_etag(created)
    return created


@router.get(
    "/stations/{code}",
    response_model=StationRead,
    summary="One station with its featured services",
    tags=["stations"],
    responses={**NOT_MODIFIED, **problems(403, 404)},
)
async def get_station(_: Reader, request: Request, code: Code) -> Response:
    # From the snapshot: the body and ETag made once per revision, no database session.
    entry = reads.station(await served(request), code)
    if not_modified(request, entry.etag):
        return not_modified_response(entry.etag)
    return reads.station_response(request, entry)


@router.patch(
    "/stations/{code}",
    response_model=StationRead,
    summary="Update a station (its keepers, community admins, county admins; If-Match)",
    description="`keepers`: when the stations follow the gateway's staff roster (as deployed), they come from "
    "the staff records (`stations` of station keepers, `/api/v1/staff`) and sending them here is 409 "
    "`keepers_follow_staff`.",
    tags=["stations"],
    responses=problems(403, 404, 409, 412, 422),
)
async def update_station(
    session: DbSession,
    principal: Manager,
    request: Request,
    response: Response,
    code: Code,
    body: StationUpdate,
    follow_staff: KeepersFollowStaff,
) -> StationRead:
    current = await service.station_detail(session, code)
    check_if_match(request.headers.get("if-match"), station_etag(current))
    station = await service.get_station(session, code)
    updated = await service.update_station(session, principal, station, body, keepers_follow_staff=follow_staff)
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
    check_if_match(request.headers.get("if-match"), station_etag(await service.station_detail(session, code)))
    station = await service.get_station(session, code)
    svc = await service.get_service(session, station, service_code)
    return await service.update_service(session, principal, station, svc, body)
