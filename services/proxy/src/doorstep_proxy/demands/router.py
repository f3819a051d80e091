"""HTTP routes for demands (thin: parse, call, return)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated

from fastapi import Depends, Query, Request, Response

from doorstep_shared.app import DbSession
from doorstep_shared.auth.permissions import Permission
from doorstep_shared.auth.security import authenticated_router, require
from doorstep_shared.auth.tokens import Principal
from doorstep_shared.http import not_modified, not_modified_response, problems
from doorstep_shared.http.pagination import (
    CursorParam,
    LimitParam,
    Page,
    cursor_timestamp,
    cursor_uuid,
    encode_cursor,
    read_cursor,
)

from ..cases import intake
from ..deps import Cipher, CurrentDirectory, IfMatch
from . import service
from .models import Demand
from .schemas import (
    Channel,
    DemandAnswer,
    DemandClose,
    DemandConvert,
    DemandCreate,
    DemandRead,
    DemandStatus,
)

router = authenticated_router(prefix="/api/v1/proxy")

DemandsReader = Annotated[Principal, Depends(require(Permission.DEMANDS_READ))]
DemandsWriter = Annotated[Principal, Depends(require(Permission.DEMANDS_WRITE))]
Code = Annotated[str, Query(max_length=64)]


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
    directory: CurrentDirectory,
    cipher: Cipher,
    response: Response,
) -> DemandRead:
    d = await service.create_demand(session, principal, directory, cipher, data)
    response.headers["ETag"] = service.demand_etag(d)
    response.headers["Location"] = f"/api/v1/proxy/demands/{d.id}"
    return service.demand_read(d, cipher)


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
    after = read_cursor(cursor, cursor_timestamp, cursor_uuid)
    rows = await service.demands(
        session,
        principal,
        status=status,
        channel=channel,
        community=community,
        grid=grid,
        resident_id=resident_id,
        day_from=since,
        day_to=until,
        after=after,
        limit=limit + 1,
    )
    items = [service.demand_read(d, cipher) for d in rows[:limit]]
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
    d = await service.demand(session, principal, demand_id)
    etag = service.demand_etag(d)
    if not_modified(request, etag):
        return not_modified_response(etag)
    response.headers["ETag"] = etag
    return service.demand_read(d, cipher)


def _demand_out(d: Demand, cipher: Cipher, response: Response) -> DemandRead:
    response.headers["ETag"] = service.demand_etag(d)
    return service.demand_read(d, cipher)


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
    d = await service.transition_demand(session, principal, demand_id, "answer", data, if_match)
    return _demand_out(d, cipher, response)


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
    d = await intake.convert_demand(session, principal, demand_id, data, if_match)  # the case gets the link
    return _demand_out(d, cipher, response)


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
    d = await service.transition_demand(session, principal, demand_id, "close", data, if_match)
    return _demand_out(d, cipher, response)
