"""HTTP routes for survey import, workers, demands and figures (thin: parse, call, return)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Path, Query, Request, Response, UploadFile

from doorstep_shared.app import DbSession
from doorstep_shared.errors import PayloadTooLarge
from doorstep_shared.http import not_modified, not_modified_response
from doorstep_shared.pagination import CursorParam, LimitParam, Page, decode_cursor, encode_cursor
from doorstep_shared.permissions import Permission
from doorstep_shared.security import current_principal, require
from doorstep_shared.tokens import Principal

from . import service_import, service_work
from .deps import Cipher, FiguresQuery, FiguresReader, IfMatch, problems
from .importer import read_sheet
from .schemas_work import (
    Channel,
    DemandAnswer,
    DemandClose,
    DemandConvert,
    DemandCreate,
    DemandRead,
    DemandStatus,
    Figures,
    GridTeam,
    ImportReport,
    WorkerRead,
    WorkerStatus,
    WorkerUpsert,
)

router = APIRouter(prefix="/api/v1/proxy", dependencies=[Depends(current_principal)])

Importer = Annotated[Principal, Depends(require(Permission.RESIDENTS_IMPORT))]
WorkersReader = Annotated[Principal, Depends(require(Permission.WORKERS_READ))]
WorkersWriter = Annotated[Principal, Depends(require(Permission.WORKERS_WRITE))]
DemandsReader = Annotated[Principal, Depends(require(Permission.DEMANDS_READ))]
DemandsWriter = Annotated[Principal, Depends(require(Permission.DEMANDS_WRITE))]
Code = Annotated[str, Query(max_length=64)]
UsernamePath = Annotated[str, Path(pattern=r"^[a-z0-9][a-z0-9._-]{0,63}$")]


# --- import -----------------------------------------------------------------------------


@router.post(
    "/residents/import",
    response_model=ImportReport,
    tags=["import"],
    summary="Import a survey sheet (.xlsx or .csv in UTF-8/GBK), upserting by ID number",
    responses=problems(413, 422),
)
async def import_residents(
    request: Request,
    session: DbSession,
    principal: Importer,
    cipher: Cipher,
    file: Annotated[UploadFile, File(description="The survey sheet (摸排表)")],
    mode: Annotated[
        service_import.ImportMode,
        Query(description="all_or_nothing: any rejected row → nothing written"),
    ] = "all_or_nothing",
) -> ImportReport:
    settings = request.app.state.settings
    data = await file.read(settings.import_max_bytes + 1)
    if len(data) > settings.import_max_bytes:
        raise PayloadTooLarge(
            f"The sheet is larger than {settings.import_max_bytes} bytes; split it.",
            code="sheet_too_large",
        )
    sheet = read_sheet(data, file.filename or "", max_rows=settings.import_max_rows)
    return await service_import.import_sheet(session, principal, cipher, sheet, mode, file_name=file.filename or "")


# --- workers ----------------------------------------------------------------------------


@router.get(
    "/workers",
    response_model=Page[WorkerRead],
    tags=["workers"],
    summary="List proxy workers' field profiles",
    responses=problems(422),
)
async def list_workers(
    session: DbSession,
    principal: WorkersReader,
    community: Code | None = None,
    grid: Code | None = None,
    status: WorkerStatus | None = None,
    cursor: CursorParam = None,
    limit: LimitParam = 50,
) -> Page[WorkerRead]:
    after = decode_cursor(cursor, 1)
    rows = await service_work.workers(
        session,
        principal,
        community=community,
        grid=grid,
        status=status,
        after=str(after[0]) if after else None,
        limit=limit + 1,
    )
    items = await service_work.worker_reads(session, rows[:limit])
    nxt = encode_cursor([items[-1].username]) if len(rows) > limit else None
    return Page(items=items, next_cursor=nxt)


@router.get(
    "/workers/{username}",
    response_model=WorkerRead,
    tags=["workers"],
    summary="One worker's field profile",
    responses=problems(404, 422),
)
async def get_worker(
    username: UsernamePath, session: DbSession, principal: WorkersReader, response: Response
) -> WorkerRead:
    found = await service_work.worker(session, principal, username)
    response.headers["ETag"] = service_work.worker_etag(found)
    return (await service_work.worker_reads(session, [found]))[0]


@router.put(
    "/workers/{username}",
    response_model=WorkerRead,
    tags=["workers"],
    summary="Create or replace a worker's field profile (grids, categories, availability)",
    responses={**problems(409, 412, 422), 201: {"model": WorkerRead}},
)
async def put_worker(
    username: UsernamePath,
    data: WorkerUpsert,
    session: DbSession,
    principal: WorkersWriter,
    response: Response,
    if_match: IfMatch = None,
) -> WorkerRead:
    found, created = await service_work.upsert_worker(session, principal, username, data, if_match)
    response.status_code = 201 if created else 200
    response.headers["ETag"] = service_work.worker_etag(found)
    return (await service_work.worker_reads(session, [found]))[0]


@router.get(
    "/grids/{grid}/team",
    response_model=GridTeam,
    tags=["workers"],
    summary="The proxy team of a grid",
    responses=problems(404, 422),
)
async def get_grid_team(
    grid: Annotated[str, Path(max_length=64)], session: DbSession, principal: WorkersReader
) -> GridTeam:
    return await service_work.grid_team(session, principal, grid)


# --- demands ----------------------------------------------------------------------------


@router.post(
    "/demands",
    response_model=DemandRead,
    status_code=201,
    tags=["demands"],
    summary="Log a consultation or request (staff, or a platform with demands:write)",
    responses=problems(422),
)
async def create_demand(
    data: DemandCreate,
    session: DbSession,
    principal: DemandsWriter,
    cipher: Cipher,
    response: Response,
) -> DemandRead:
    d = await service_work.create_demand(session, principal, cipher, data)
    response.headers["ETag"] = service_work.demand_etag(d)
    response.headers["Location"] = f"/api/v1/proxy/demands/{d.id}"
    return service_work.demand_read(d, cipher)


@router.get(
    "/demands",
    response_model=Page[DemandRead],
    tags=["demands"],
    summary="List demands, newest first (a platform sees only its own)",
    responses=problems(422),
)
async def list_demands(
    session: DbSession,
    principal: DemandsReader,
    cipher: Cipher,
    status: DemandStatus | None = None,
    channel: Channel | None = None,
    community: Code | None = None,
    grid: Code | None = None,
    resident_id: uuid.UUID | None = None,
    since: Annotated[dt.date | None, Query(alias="from")] = None,
    until: Annotated[dt.date | None, Query(alias="to")] = None,
    cursor: CursorParam = None,
    limit: LimitParam = 50,
) -> Page[DemandRead]:
    after = decode_cursor(cursor, 2)
    if after:
        try:
            dt.datetime.fromisoformat(str(after[0]))
            uuid.UUID(str(after[1]))
        except ValueError:
            after = [dt.datetime.min.replace(tzinfo=dt.UTC).isoformat(), str(uuid.UUID(int=0))]
    filters: dict[str, Any] = {
        "status": status,
        "channel": channel,
        "community": community,
        "grid": grid,
        "resident_id": resident_id,
        "since": service_work.day_start(since) if since else None,
        "until": (service_work.day_start(service_work.day_after(until), "query.to") if until else None),
        "after": after,
        "limit": limit + 1,
    }
    rows = await service_work.demands(session, principal, **filters)
    items = [service_work.demand_read(d, cipher) for d in rows[:limit]]
    nxt = None
    if len(rows) > limit:
        nxt = encode_cursor([items[-1].created_at.isoformat(), str(items[-1].id)])
    return Page(items=items, next_cursor=nxt)


@router.get(
    "/demands/{demand_id}",
    response_model=DemandRead,
    tags=["demands"],
    summary="One demand and what became of it",
    responses={**problems(404, 422), 304: {"description": "Not modified"}},
)
async def get_demand(
    demand_id: uuid.UUID,
    session: DbSession,
    principal: DemandsReader,
    cipher: Cipher,
    request: Request,
    response: Response,
) -> DemandRead | Response:
    d = await service_work.demand(session, principal, demand_id)
    etag = service_work.demand_etag(d)
    if not_modified(request, etag):
        return not_modified_response(etag)
    response.headers["ETag"] = etag
    return service_work.demand_read(d, cipher)


async def _transition(
    action: str,
    demand_id: uuid.UUID,
    data: DemandAnswer | DemandConvert | DemandClose,
    session: DbSession,
    principal: Principal,
    cipher: Cipher,
    response: Response,
    if_match: str | None,
) -> DemandRead:
    d = await service_work.transition_demand(session, principal, demand_id, action, data, if_match)
    response.headers["ETag"] = service_work.demand_etag(d)
    return service_work.demand_read(d, cipher)


@router.post(
    "/demands/{demand_id}/answer",
    response_model=DemandRead,
    tags=["demands"],
    summary="Answer a demand",
    responses=problems(404, 409, 412, 422),
)
async def answer_demand(
    demand_id: uuid.UUID,
    data: DemandAnswer,
    session: DbSession,
    principal: DemandsWriter,
    cipher: Cipher,
    response: Response,
    if_match: IfMatch = None,
) -> DemandRead:
    return await _transition("answer", demand_id, data, session, principal, cipher, response, if_match)


@router.post(
    "/demands/{demand_id}/conversion",
    response_model=DemandRead,
    tags=["demands"],
    summary="Mark a demand as converted into a case",
    responses=problems(404, 409, 412, 422),
)
async def convert_demand(
    demand_id: uuid.UUID,
    data: DemandConvert,
    session: DbSession,
    principal: Annotated[Principal, Depends(require(Permission.CASES_WRITE))],
    cipher: Cipher,
    response: Response,
    if_match: IfMatch = None,
) -> DemandRead:
    return await _transition("convert", demand_id, data, session, principal, cipher, response, if_match)


@router.post(
    "/demands/{demand_id}/closure",
    response_model=DemandRead,
    tags=["demands"],
    summary="Close a demand",
    responses=problems(404, 409, 412, 422),
)
async def close_demand(
    demand_id: uuid.UUID,
    data: DemandClose,
    session: DbSession,
    principal: DemandsWriter,
    cipher: Cipher,
    response: Response,
    if_match: IfMatch = None,
) -> DemandRead:
    return await _transition("close", demand_id, data, session, principal, cipher, response, if_match)


# --- figures ----------------------------------------------------------------------------


@router.get(
    "/figures",
    response_model=Figures,
    tags=["figures"],
    summary="Ledger and demand figures for a community or grid, per grid",
    responses=problems(422),
)
async def get_figures(
    session: DbSession,
    principal: FiguresReader,
    scope: FiguresQuery,
) -> Figures:
    return await service_work.figures(
        session,
        principal,
        community=scope.community,
        grid=scope.grid,
        period_from=scope.period_from,
        period_to=scope.period_to,
    )
