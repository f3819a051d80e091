"""HTTP routes for cases, materials, visits, "my day" and the sync feed (thin: parse, call, return)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any, Literal

from fastapi import Depends, Path, Query, Request, Response

from doorstep_shared.app import DbSession
from doorstep_shared.auth.permissions import Permission
from doorstep_shared.auth.security import authenticated_router, require
from doorstep_shared.auth.tokens import Principal
from doorstep_shared.db import hot_read
from doorstep_shared.http import not_modified, not_modified_response, problems
from doorstep_shared.http.pagination import (
    CursorParam,
    LimitParam,
    cursor_timestamp,
    cursor_uuid,
    encode_cursor,
    read_cursor,
)
from doorstep_shared.http.sparse import Fields, json_page, json_response, sparse_fields, sparse_page

from ..deps import Catalog, Cipher, CurrentDirectory, IfMatch
from ..inputs import Code
from ..workers.schemas import Username
from . import intake, reads, service, sync, visits
from .models import ProxyCase, Visit
from .schemas import (
    CaseAssign,
    CaseChannel,
    CaseCreate,
    CaseDueOverride,
    CaseEventRead,
    CaseQuery,
    CaseRead,
    CaseStatus,
    CaseTransition,
    DayPlan,
    MaterialMark,
    SyncPage,
    VisitCheckIn,
    VisitCheckOut,
    VisitCreate,
    VisitRead,
    VisitUpdate,
    WeekPlan,
)

router = authenticated_router(prefix="/api/v1/proxy")

CasesReader = Annotated[Principal, Depends(require(Permission.CASES_READ))]
CasesWriter = Annotated[Principal, Depends(require(Permission.CASES_WRITE))]
SyncReader = Annotated[Principal, Depends(require(Permission.SYNC_READ))]
CaseFields = Annotated[Fields, Depends(sparse_fields(CaseRead))]
NOT_MODIFIED: dict[int | str, dict[str, Any]] = {304: {"description": "Not modified (If-None-Match)"}}


async def _case_out(
    session: DbSession, case: ProxyCase, cipher: Cipher, response: Response, principal: Principal
) -> CaseRead:
    response.headers["ETag"] = service.case_etag(case)
    return (await service.case_reads(session, [case], cipher, principal))[0]


# --- cases ------------------------------------------------------------------------------


@router.post(
    "/cases",
    response_model=CaseRead,
    status_code=201,
    tags=["cases"],
    summary="Accept a case (any worker of the community); a retried client id returns the case",
    responses={**problems(409, 422, 503), 200: {"model": CaseRead, "description": "Already accepted (same id)"}},
)
async def create_case(
    data: CaseCreate,
    session: DbSession,
    principal: CasesWriter,
    cipher: Cipher,
    catalog: Catalog,
    response: Response,
) -> CaseRead:
    case, created = await intake.accept_case(
        session,
        principal,
        catalog,
        resident_id=data.resident_id,
        item_code=data.item_code,
        channel=data.channel,
        case_id=data.id,
        demand_id=data.demand_id,
        keep=data.keep,
        note=data.note,
    )
    response.status_code = 201 if created else 200
    response.headers["Location"] = f"/api/v1/proxy/cases/{case.id}"
    return await _case_out(session, case, cipher, response, principal)


@router.get(
    "/cases",
    response_model=sparse_page(CaseRead),
    tags=["cases"],
    summary="List cases, newest first; filters for open, overdue and due-soon lists",
    responses=problems(422),
)
async def list_cases(
    request: Request,
    principal: CasesReader,
    cipher: Cipher,
    status: CaseStatus | None = None,
    open_only: Annotated[bool, Query(alias="open")] = False,
    overdue: bool = False,
    due_soon: bool = False,
    community: Code | None = None,
    grid: Code | None = None,
    assigned_to: Annotated[str | None, Query(max_length=64)] = None,
    accepted_by: Annotated[str | None, Query(max_length=64)] = None,
    item_code: Code | None = None,
    channel: CaseChannel | None = None,
    resident_id: uuid.UUID | None = None,
    fields: CaseFields = None,
    cursor: CursorParam = None,
    limit: LimitParam = 50,
) -> Response:
    parsed = read_cursor(cursor, cursor_timestamp, cursor_uuid)
    query = CaseQuery(
        status=status,
        open_only=open_only,
        community=community,
        grid=grid,
        assigned_to=assigned_to,
        accepted_by=accepted_by,
        item_code=item_code,
        channel=channel,
        resident_id=resident_id,
    )
    # A hot list of the field app: plain dicts written as JSON once (the lean path, no model
    # per row), read on asyncpg's own connection where there is one (``hot_read``); the page is
    # still the documented Page[CaseRead].
    async with hot_read(request.app.state.read_engine) as conn:
        rows = await service.list_cases(
            conn, principal, query, overdue=overdue, due_soon=due_soon, after=parsed, limit=limit + 1
        )
        page = rows[:limit]
        items = await reads.case_items(conn, page, cipher, principal)
    nxt = None
    if len(rows) > limit:
        nxt = encode_cursor([page[-1].accepted_at.isoformat(), str(page[-1].id)])
    return json_page(items, nxt, fields)


@router.get(
    "/cases/{case_id}",
    response_model=CaseRead,
    tags=["cases"],
    summary="One case with its snapshot, materials and deadline flags (ETag)",
    responses={**problems(404, 422), **NOT_MODIFIED},
)
async def get_case(
    case_id: uuid.UUID,
    session: DbSession,
    principal: CasesReader,
    cipher: Cipher,
    request: Request,
) -> Response:
    case = await service.case_row(session, principal, case_id)
    etag = service.case_etag(case)
    if not_modified(request, etag):
        return not_modified_response(etag)
    item = (await reads.case_items(session, [case], cipher, principal))[0]
    return json_response(item, headers={"ETag": etag})


@router.get(
    "/cases/{case_id}/timeline",
    response_model=list[CaseEventRead],
    tags=["cases"],
    summary="The case's timeline: every transition, assignment, deadline and material change",
    responses=problems(404, 422),
)
async def get_timeline(case_id: uuid.UUID, session: DbSession, principal: CasesReader) -> list[CaseEventRead]:
    return await service.timeline(session, principal, case_id)


@router.post(
    "/cases/{case_id}/transitions",
    response_model=CaseRead,
    tags=["cases"],
    summary="Move a case to its next status (illegal → 409 with the allowed next states)",
    responses=problems(404, 409, 412, 422),
)
async def transition_case(
    case_id: uuid.UUID,
    data: CaseTransition,
    session: DbSession,
    principal: CasesWriter,
    cipher: Cipher,
    response: Response,
    if_match: IfMatch = None,
) -> CaseRead:
    case = await service.transition(session, principal, case_id, data, if_match)
    return await _case_out(session, case, cipher, response, principal)


@router.post(
    "/cases/{case_id}/assignment",
    response_model=CaseRead,
    tags=["cases"],
    summary="Reassign a case to a worker or a grid team (with a reason)",
    responses=problems(404, 409, 412, 422),
)
async def assign_case(
    case_id: uuid.UUID,
    data: CaseAssign,
    session: DbSession,
    principal: CasesWriter,
    directory: CurrentDirectory,
    cipher: Cipher,
    response: Response,
    if_match: IfMatch = None,
) -> CaseRead:
    case = await service.assign(session, principal, directory, case_id, data, if_match)
    return await _case_out(session, case, cipher, response, principal)


@router.put(
    "/cases/{case_id}/due-date",
    response_model=CaseRead,
    tags=["cases"],
    summary="Override a case's due date (admins, with a reason)",
    responses=problems(404, 409, 412, 422),
)
async def override_due_date(
    case_id: uuid.UUID,
    data: CaseDueOverride,
    session: DbSession,
    principal: CasesWriter,
    cipher: Cipher,
    response: Response,
    if_match: IfMatch = None,
) -> CaseRead:
    case = await service.override_due(session, principal, case_id, data, if_match)
    return await _case_out(session, case, cipher, response, principal)


@router.put(
    "/cases/{case_id}/materials/{position}",
    response_model=CaseRead,
    tags=["cases"],
    summary="Tick (or un-tick) one material of the checklist: original seen, copy taken, electronic",
    responses=problems(404, 409, 412, 422),
)
async def mark_material(
    case_id: uuid.UUID,
    position: Annotated[int, Path(ge=1, le=100)],
    data: MaterialMark,
    session: DbSession,
    principal: CasesWriter,
    cipher: Cipher,
    response: Response,
    if_match: IfMatch = None,
) -> CaseRead:
    case = await service.mark_material(session, principal, case_id, position, data, if_match)
    return await _case_out(session, case, cipher, response, principal)


# --- visits -----------------------------------------------------------------------------


async def _visit_out(
    session: DbSession, visit: Visit, cipher: Cipher, response: Response, principal: Principal | None = None
) -> VisitRead:
    response.headers["ETag"] = visits.visit_etag(visit)
    return (await visits.visit_reads(session, [visit], cipher, principal))[0]


@router.post(
    "/visits",
    response_model=VisitRead,
    status_code=201,
    tags=["visits"],
    summary="Plan a visit covering cases of one household (client id accepted)",
    responses={**problems(409, 422), 200: {"model": VisitRead, "description": "Already planned (same id)"}},
)
async def create_visit(
    data: VisitCreate, session: DbSession, principal: CasesWriter, cipher: Cipher, response: Response
) -> VisitRead:
    visit, created = await visits.create_visit(session, principal, data)
    response.status_code = 201 if created else 200
    response.headers["Location"] = f"/api/v1/proxy/visits/{visit.id}"
    return await _visit_out(session, visit, cipher, response, principal)


@router.get(
    "/visits/{visit_id}",
    response_model=VisitRead,
    tags=["visits"],
    summary="One visit (ETag)",
    responses={**problems(404, 422), **NOT_MODIFIED},
)
async def get_visit(
    visit_id: uuid.UUID,
    session: DbSession,
    principal: CasesReader,
    cipher: Cipher,
    request: Request,
) -> Response:
    visit = await visits.visit_row(session, principal, visit_id)
    etag = visits.visit_etag(visit)
    if not_modified(request, etag):
        return not_modified_response(etag)
    return json_response(await visits.visit_item(session, principal, cipher, visit), headers={"ETag": etag})


@router.patch(
    "/visits/{visit_id}",
    response_model=VisitRead,
    tags=["visits"],
    summary="Reschedule or annotate a visit (If-Match)",
    responses=problems(404, 409, 412, 422),
)
async def update_visit(
    visit_id: uuid.UUID,
    data: VisitUpdate,
    session: DbSession,
    principal: CasesWriter,
    cipher: Cipher,
    response: Response,
    if_match: IfMatch = None,
) -> VisitRead:
    visit = await visits.update_visit(session, principal, visit_id, data, if_match)
    return await _visit_out(session, visit, cipher, response, principal)


@router.delete(
    "/visits/{visit_id}",
    status_code=204,
    tags=["visits"],
    summary="Drop a planned visit (phones learn it from a sync tombstone)",
    responses=problems(404, 409, 412, 422),
)
async def delete_visit(
    visit_id: uuid.UUID, session: DbSession, principal: CasesWriter, if_match: IfMatch = None
) -> Response:
    await visits.delete_visit(session, principal, visit_id, if_match)
    return Response(status_code=204)


@router.post(
    "/visits/{visit_id}/check-in",
    response_model=VisitRead,
    tags=["visits"],
    summary="Check in at the door (the phone's time)",
    responses=problems(404, 409, 412, 422),
)
async def check_in(
    visit_id: uuid.UUID,
    data: VisitCheckIn,
    session: DbSession,
    principal: CasesWriter,
    cipher: Cipher,
    response: Response,
    if_match: IfMatch = None,
) -> VisitRead:
    visit = await visits.check_in(session, principal, visit_id, data, if_match)
    return await _visit_out(session, visit, cipher, response, principal)


@router.post(
    "/visits/{visit_id}/check-out",
    response_model=VisitRead,
    tags=["visits"],
    summary="Check out with the outcome: done, nobody home, or come back on a date",
    responses=problems(404, 409, 412, 422),
)
async def check_out(
    visit_id: uuid.UUID,
    data: VisitCheckOut,
    session: DbSession,
    principal: CasesWriter,
    cipher: Cipher,
    response: Response,
    if_match: IfMatch = None,
) -> VisitRead:
    visit = await visits.check_out(session, principal, visit_id, data, if_match)
    return await _visit_out(session, visit, cipher, response, principal)


@router.get(
    "/my/day",
    response_model=DayPlan,
    tags=["visits"],
    summary="My day: today's visits by compound and building, residents masked, materials missing",
    responses=problems(422),
)
async def my_day(
    request: Request,
    principal: CasesReader,
    cipher: Cipher,
    date: dt.date | None = None,
    worker: Annotated[Username | None, Query(max_length=64)] = None,
) -> Response:
    # The field app's first screen of the day: one dict written as JSON once (the lean path), read
    # on asyncpg's own connection where there is one (``hot_read``).
    async with hot_read(request.app.state.read_engine) as conn:
        plan = await visits.day_plan_item(conn, principal, cipher, day=date, worker=worker)
    return json_response(plan)


@router.get(
    "/my/week",
    response_model=WeekPlan,
    tags=["visits"],
    summary="My week: the visits of the week (Monday to Sunday) containing the date",
    responses=problems(422),
)
async def my_week(
    request: Request,
    principal: CasesReader,
    cipher: Cipher,
    date: dt.date | None = None,
    worker: Annotated[Username | None, Query(max_length=64)] = None,
) -> Response:
    async with hot_read(request.app.state.read_engine) as conn:
        plan = await visits.week_plan_item(conn, principal, cipher, day=date, worker=worker)
    return json_response(plan)


# --- sync ---------------------------------------------------------------------


@router.get(
    "/sync",
    response_model=SyncPage,
    tags=["sync"],
    summary="Change feed for the field app: records and tombstones after a cursor (410: resync)",
    responses=problems(410, 422),
)
async def get_sync(
    session: DbSession,
    principal: SyncReader,
    cipher: Cipher,
    since: Annotated[str | None, Query(max_length=512, description="The cursor of the previous page")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 500,
    scope: Annotated[
        Literal["mine", "grid", "community"] | None,
        Query(
            description="What the phone carries: `mine` (assigned to me), `grid` (my grids' records plus "
            "mine; the default of a worker with a grid), `community` (the default of admins and of "
            "workers without a grid). A cursor answers only for the scope it was issued for (else 410)."
        ),
    ] = None,
) -> Response:
    # Up to 1,000 records: rows of the columns shown, dicts written as JSON once (the lean path).
    return json_response(await sync.changes(session, principal, cipher, since=since, limit=limit, scope=scope))
