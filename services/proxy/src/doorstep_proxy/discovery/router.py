"""Discovery routes: leads (lists, actions, figures, coming due, needs survey), explanations per
resident, and runs (a started run works in the background: ``background.py``)."""

from __future__ import annotations

import uuid
from enum import Enum
from typing import Annotated, Literal

from fastapi import BackgroundTasks, Depends, Path, Query, Request, Response, status

from doorstep_shared.app import DbSession
from doorstep_shared.auth.permissions import Permission
from doorstep_shared.auth.security import authenticated_router, require
from doorstep_shared.auth.tokens import Principal
from doorstep_shared.db import hot_read
from doorstep_shared.http import etag_of, problems
from doorstep_shared.http.pagination import (
    CursorParam,
    LimitParam,
    Page,
    cursor_int,
    encode_cursor,
    read_cursor,
)
from doorstep_shared.http.sparse import Fields, json_page, json_response, sparse_fields, sparse_page

from ..background import start_discovery_run_later
from ..deps import Catalog, Cipher, CurrentDirectory, IfMatch
from ..state import state_of
from . import runs
from . import service as svc
from .schemas import (
    ComingDue,
    ConversionRead,
    EligibilityRead,
    LeadContacted,
    LeadConversion,
    LeadDeclined,
    LeadFigures,
    LeadRead,
    LeadStatus,
    NeedsSurvey,
    RunCreate,
    RunRead,
)

router = authenticated_router(prefix="/api/v1/proxy")


LeadReader = Annotated[Principal, Depends(require(Permission.LEADS_READ))]
LeadWriter = Annotated[Principal, Depends(require(Permission.LEADS_WRITE))]
Converter = Annotated[Principal, Depends(require(Permission.LEADS_WRITE, Permission.CASES_WRITE))]
Runner = Annotated[Principal, Depends(require(Permission.DISCOVERY_RUN))]
ResidentReader = Annotated[Principal, Depends(require(Permission.RESIDENTS_READ))]
Code = Annotated[str | None, Query(max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")]
FactName = Annotated[str | None, Query(max_length=32, description="Only unknown leads missing this fact")]

LeadId = Annotated[int, Path(ge=1, le=2_147_483_647)]
RunId = Annotated[int, Path(ge=1, le=2_147_483_647)]
LeadFields = Annotated[Fields, Depends(sparse_fields(LeadRead))]

LEADS: list[str | Enum] = ["leads"]
RUNS: list[str | Enum] = ["discovery"]


async def fresh_leads(request: Request, catalog: Catalog) -> None:
    """Read your writes: residents whose facts changed are re-evaluated before a lead read (in
    a transaction of their own, only when some are queued), so the read itself stays read-only."""
    state = state_of(request)
    await svc.refresh_leads(state.sessionmaker, request.app.state.read_engine, catalog, state.drain_lock)


FreshLeads = Depends(fresh_leads)


@router.get(
    "/leads",
    # Re-evaluates residents whose facts changed before answering (read your writes).
    dependencies=[FreshLeads],
    response_model=sparse_page(LeadRead),
    tags=LEADS,
    summary="Leads: residents who qualify for an item they neither receive nor have an open case for",
    responses=problems(422, 503),
)
async def list_leads(
    request: Request,
    session: DbSession,
    principal: LeadReader,
    cipher: Cipher,
    catalog: Catalog,
    community: Code = None,
    grid: Code = None,
    worker: Annotated[str | None, Query(max_length=64, description="A worker's grids; `me` for yours")] = None,
    item: Code = None,
    resident: Annotated[uuid.UUID | None, Query(description="Only this resident's leads")] = None,
    status_: Annotated[list[LeadStatus] | None, Query(alias="status", max_length=5)] = None,
    verdict: Literal["eligible", "unknown", "all"] = "eligible",
    missing: FactName = None,
    fields: LeadFields = None,
    cursor: CursorParam = None,
    limit: LimitParam = 50,
) -> Response:
    after = read_cursor(cursor, cursor_int)
    items, last = await svc.list_leads(
        session,
        request.app.state.read_engine,
        principal,
        cipher,
        catalog,
        community=community,
        grid=grid,
        worker=worker,
        item_code=item,
        resident=resident,
        statuses=status_ or ["new", "contacted"],
        verdict=None if verdict == "all" else verdict,
        missing=missing,
        after=after[0] if after else None,
        limit=limit,
    )
    # Plain dicts written as JSON once (the lean path); the page is still the documented one.
    return json_page(items, encode_cursor([last]) if last is not None else None, fields)


@router.get(
    "/leads/figures",
    response_model=LeadFigures,
    tags=LEADS,
    summary="Lead figures: found, converted, by item",
    responses=problems(422, 503),
)
async def lead_figures(
    session: DbSession, principal: LeadReader, catalog: Catalog, community: Code = None, grid: Code = None
) -> LeadFigures:
    return await svc.figures(session, principal, catalog, community, grid)


@router.get(
    "/leads/coming-due",
    response_model=list[ComingDue],
    tags=LEADS,
    summary="Residents who will qualify within N days (turning 80, reaching pension age)",
    responses=problems(422, 503),
)
async def coming_due(
    session: DbSession,
    principal: LeadReader,
    catalog: Catalog,
    days: Annotated[int, Query(ge=1, le=366)] = 30,
    grid: Code = None,
    worker: Annotated[str | None, Query(max_length=64)] = None,
    item: Code = None,
) -> list[ComingDue]:
    return await svc.coming_due(session, principal, catalog, days=days, grid=grid, worker=worker, item_code=item)


@router.get(
    "/leads/needs-survey",
    # Re-evaluates residents whose facts changed before answering (read your writes).
    dependencies=[FreshLeads],
    response_model=NeedsSurvey,
    tags=LEADS,
    summary="Undecided because a fact is missing, grouped by the missing fact (the survey to-do list)",
    responses=problems(422, 503),
)
async def needs_survey(
    session: DbSession,
    principal: LeadReader,
    catalog: Catalog,
    grid: Code = None,
    worker: Annotated[str | None, Query(max_length=64)] = None,
) -> NeedsSurvey:
    return await svc.needs_survey(session, principal, catalog, grid, worker)


@router.get(
    "/leads/{lead_id}",
    response_model=LeadRead,
    tags=LEADS,
    summary="One lead, with reason and materials",
    responses=problems(404, 503),
)
async def get_lead(
    request: Request, principal: LeadReader, cipher: Cipher, catalog: Catalog, lead_id: LeadId
) -> Response:
    # On asyncpg's own connection where there is one (``hot_read``), like a resident's read.
    async with hot_read(request.app.state.read_engine) as conn:
        item = await svc.get_lead_item(conn, principal, cipher, catalog, lead_id)
    return json_response(item, headers={"ETag": etag_of("lead", item["id"], item["version"])})


@router.post(
    "/leads/{lead_id}/contacted",
    response_model=LeadRead,
    tags=LEADS,
    summary="Mark a lead contacted",
    responses=problems(404, 409, 412, 422, 503),
)
async def lead_contacted(
    session: DbSession,
    principal: LeadWriter,
    cipher: Cipher,
    catalog: Catalog,
    lead_id: LeadId,
    body: LeadContacted,
    if_match: IfMatch = None,
) -> LeadRead:
    return await svc.mark_contacted(session, principal, cipher, catalog, lead_id, if_match)


@router.post(
    "/leads/{lead_id}/declined",
    response_model=LeadRead,
    tags=LEADS,
    summary="The resident declined (with the reason); it comes back only if the facts change",
    responses=problems(404, 409, 412, 422, 503),
)
async def lead_declined(
    session: DbSession,
    principal: LeadWriter,
    cipher: Cipher,
    catalog: Catalog,
    lead_id: LeadId,
    body: LeadDeclined,
    if_match: IfMatch = None,
) -> LeadRead:
    return await svc.decline(session, principal, cipher, catalog, lead_id, body.reason, if_match)


@router.post(
    "/leads/{lead_id}/conversion",
    response_model=ConversionRead,
    status_code=status.HTTP_201_CREATED,
    tags=LEADS,
    summary="Convert a lead into a doorstep case (materials checklist from the catalogue)",
    responses=problems(404, 409, 412, 422, 503),
)
async def lead_conversion(
    session: DbSession,
    principal: Converter,
    cipher: Cipher,
    catalog: Catalog,
    lead_id: LeadId,
    body: LeadConversion,
    if_match: IfMatch = None,
) -> ConversionRead:
    return await svc.convert(
        session,
        principal,
        cipher,
        catalog,
        lead_id,
        channel=body.channel,
        case_id=body.case_id,
        note=body.note,
        if_match=if_match,
    )


@router.get(
    "/residents/{resident_id}/eligibility",
    response_model=EligibilityRead,
    tags=LEADS,
    summary="Every item: eligible / not eligible / unknown and why, from the stored facts",
    responses=problems(404, 503),
)
async def resident_eligibility(
    session: DbSession, principal: ResidentReader, catalog: Catalog, resident_id: uuid.UUID
) -> EligibilityRead:
    return await svc.eligibility(session, principal, catalog, resident_id)


@router.post(
    "/discovery/runs",
    response_model=RunRead,
    status_code=status.HTTP_202_ACCEPTED,
    tags=RUNS,
    summary="Start a discovery run for a community or the county (joins one already running)",
    responses={200: {"model": RunRead, "description": "Joined the run in progress"}, **problems(409, 422, 503)},
)
async def start_run(
    session: DbSession,
    principal: Runner,
    catalog: Catalog,
    body: RunCreate,
    directory: CurrentDirectory,
    request: Request,
    response: Response,
    background: BackgroundTasks,
) -> RunRead:
    svc.check_scope(principal, directory, body.scope)
    snapshot = await catalog.snapshot()
    owner = runs.new_owner()
    run, started = await runs.start_run(
        session, snapshot, scope=body.scope, actor=principal.subject, owner=owner, directory=directory
    )
    await session.flush()
    if started:
        # after the request's transaction commits (BackgroundTasks run once the response is out)
        background.add_task(start_discovery_run_later, state_of(request), snapshot, run.id or 0, owner)
    else:
        response.status_code = status.HTTP_200_OK
    return svc.run_read(run, joined=not started)


@router.get(
    "/discovery/runs",
    response_model=Page[RunRead],
    tags=RUNS,
    summary="Discovery runs, newest first",
    responses=problems(422),
)
async def list_runs(
    session: DbSession,
    principal: LeadReader,
    directory: CurrentDirectory,
    cursor: CursorParam = None,
    limit: LimitParam = 20,
) -> Page[RunRead]:
    after = read_cursor(cursor, cursor_int)
    found = await svc.list_runs(session, principal, directory, after[0] if after else None, limit + 1)
    more = len(found) > limit
    found = found[:limit]
    return Page(
        items=[svc.run_read(r) for r in found],
        next_cursor=encode_cursor([found[-1].id]) if more and found else None,
    )


@router.get(
    "/discovery/runs/{run_id}",
    response_model=RunRead,
    tags=RUNS,
    summary="One run: progress and outcome",
    responses=problems(404),
)
async def get_run(session: DbSession, principal: LeadReader, directory: CurrentDirectory, run_id: RunId) -> RunRead:
    return svc.run_read(await svc.get_run(session, principal, directory, run_id))
