"""Ledger HTTP routes: compounds, households, residents, reveals (thin: parse, call, return)."""

from __future__ import annotations

import uuid
from typing import Annotated

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
    Page,
    cursor_int,
    cursor_optional_text,
    cursor_text,
    cursor_uuid,
    encode_cursor,
    read_cursor,
)
from doorstep_shared.http.sparse import Fields, json_page, json_response, sparse_fields, sparse_page

from ..deps import Cipher, CurrentDirectory, IfMatch
from ..state import state_of
from . import service
from .groups import Group
from .schemas import (
    CompoundRead,
    CompoundUpdate,
    DisabilityType,
    HouseholdDetail,
    HouseholdRead,
    ResidentCreate,
    ResidentLookup,
    ResidentQuery,
    ResidentRead,
    ResidentRemove,
    ResidentStatus,
    ResidentUpdate,
    RevealAuditRead,
    RevealRead,
    RevealRequest,
)

router = authenticated_router(prefix="/api/v1/proxy")

CompoundsReader = Annotated[Principal, Depends(require(Permission.COMPOUNDS_READ))]
CompoundsWriter = Annotated[Principal, Depends(require(Permission.COMPOUNDS_WRITE))]
ResidentsReader = Annotated[Principal, Depends(require(Permission.RESIDENTS_READ))]
ResidentsWriter = Annotated[Principal, Depends(require(Permission.RESIDENTS_WRITE))]
Revealer = Annotated[Principal, Depends(require(Permission.RESIDENTS_REVEAL))]
AuditReader = Annotated[Principal, Depends(require(Permission.AUDIT_READ))]
Code = Annotated[str, Query(max_length=64)]
Part = Annotated[str, Query(max_length=16)]
CompoundCode = Annotated[str, Path(max_length=64)]
ResidentFields = Annotated[Fields, Depends(sparse_fields(ResidentRead))]


def _etag_headers(response: Response, etag: str) -> None:
    response.headers.update(_cache_headers(etag))


def _cache_headers(etag: str) -> dict[str, str]:
    return {"ETag": etag, "Cache-Control": "private, no-cache"}


# --- compounds ------------------------------------------------------------------------


@router.get(
    "/compounds",
    response_model=Page[CompoundRead],
    tags=["compounds"],
    summary="List compounds (小区) visible to the caller",
    responses=problems(422),
)
async def list_compounds(
    session: DbSession,
    principal: CompoundsReader,
    community: Code | None = None,
    grid: Code | None = None,
    cursor: CursorParam = None,
    limit: LimitParam = 100,
) -> Page[CompoundRead]:
    after = read_cursor(cursor, cursor_text)
    rows = await service.compounds(
        session,
        principal,
        community=community,
        grid=grid,
        after=after[0] if after else None,
        limit=limit + 1,
    )
    items = [CompoundRead.model_validate(c) for c in rows[:limit]]
    nxt = encode_cursor([items[-1].code]) if len(rows) > limit else None
    return Page(items=items, next_cursor=nxt)


@router.get(
    "/compounds/{code}",
    response_model=CompoundRead,
    tags=["compounds"],
    summary="One compound",
    responses=problems(404),
)
async def get_compound(
    code: CompoundCode,
    session: DbSession,
    principal: CompoundsReader,
    request: Request,
    response: Response,
) -> CompoundRead | Response:
    found = await service.compound(session, principal, code)
    etag = service.compound_etag(found)
    if not_modified(request, etag):
        return not_modified_response(etag)
    _etag_headers(response, etag)
    return CompoundRead.model_validate(found)


@router.patch(
    "/compounds/{code}",
    response_model=CompoundRead,
    tags=["compounds"],
    summary="Correct a compound's address, counts or location",
    responses=problems(404, 412, 422),
)
async def update_compound(
    code: CompoundCode,
    data: CompoundUpdate,
    session: DbSession,
    principal: CompoundsWriter,
    response: Response,
    if_match: IfMatch = None,
) -> CompoundRead:
    found = await service.update_compound(session, principal, code, data, if_match)
    _etag_headers(response, service.compound_etag(found))
    return CompoundRead.model_validate(found)


# --- households -----------------------------------------------------------------------


@router.get(
    "/households",
    response_model=Page[HouseholdRead],
    tags=["households"],
    summary="List households (people living together) by compound, building or grid",
    responses=problems(422),
)
async def list_households(
    request: Request,
    principal: ResidentsReader,
    compound: Code | None = None,
    grid: Code | None = None,
    building: Part | None = None,
    cursor: CursorParam = None,
    limit: LimitParam = 50,
) -> Response:
    # Building, unit and room may be NULL; the cursor compares them as text, as it wrote them.
    # The lean path, as a page of residents: one statement on asyncpg's own connection where
    # there is one (``hot_read``), members counted in the row, dicts written as JSON once.
    after = read_cursor(cursor, *[cursor_optional_text] * 4, cursor_uuid)
    async with hot_read(request.app.state.read_engine) as conn:
        items, nxt = await service.household_page(
            conn, principal, compound=compound, grid=grid, building=building, after=after, limit=limit
        )
    return json_page(items, nxt, None)


@router.get(
    "/households/{household_id}",
    response_model=HouseholdDetail,
    tags=["households"],
    summary="One household with its residents (masked)",
    responses=problems(404, 422),
)
async def get_household(
    household_id: uuid.UUID, session: DbSession, principal: ResidentsReader, cipher: Cipher
) -> HouseholdDetail:
    found = await service.household(session, principal, household_id)
    residents, _ = await service.search(
        session,
        principal,
        cipher,
        ResidentQuery(household_id=found.id),
        phone=None,
        after=None,
        limit=200,
    )
    base = service.household_read(found, len(residents))
    return HouseholdDetail(**base.model_dump(), residents=residents)


# --- residents ------------------------------------------------------------------------


@router.get(
    "/residents",
    response_model=sparse_page(ResidentRead),
    tags=["residents"],
    summary="Find residents (name part, ID last 4, phone, address, special groups)",
    responses=problems(422),
)
async def search_residents(
    request: Request,
    principal: ResidentsReader,
    cipher: Cipher,
    q: Annotated[str | None, Query(max_length=50, description="Part of the name")] = None,
    id_last4: Annotated[str | None, Query(pattern=r"^\d{3}[\dXx]$")] = None,
    phone: Annotated[str | None, Query(max_length=20, description="Exact phone")] = None,
    community: Code | None = None,
    grid: Code | None = None,
    compound: Code | None = None,
    building: Part | None = None,
    unit: Part | None = None,
    room: Part | None = None,
    group: Annotated[list[Group] | None, Query(max_length=5)] = None,
    disability_type: DisabilityType | None = None,
    disability_grade: Annotated[int | None, Query(ge=1, le=4)] = None,
    without_benefit: Annotated[str | None, Query(max_length=64)] = None,
    status: Annotated[list[ResidentStatus] | None, Query(max_length=3)] = None,
    fields: ResidentFields = None,
    cursor: CursorParam = None,
    limit: LimitParam = 50,
) -> Response:
    query = ResidentQuery(
        name=q.strip() or None if q else None,
        id_last4=id_last4.upper() if id_last4 else None,
        community=community,
        grid=grid,
        compound=compound,
        building=building,
        unit=unit,
        room=room,
        groups=list(dict.fromkeys(group or [])),
        disability_type=disability_type,
        disability_grade=disability_grade,
        without_benefit=without_benefit,
        statuses=list(status or ["active"]),
    )
    # The field app's hottest list: plain dicts written as JSON once (the lean path, no model
    # per row); the page is still the documented Page[ResidentRead].
    after = read_cursor(cursor, cursor_text, *[cursor_optional_text] * 4, cursor_uuid)
    async with hot_read(request.app.state.read_engine) as conn:
        items, last = await service.search_items(conn, principal, cipher, query, phone=phone, after=after, limit=limit)
    nxt = encode_cursor(service.resident_cursor_key(last)) if last else None
    return json_page(items, nxt, fields)


@router.post(
    "/residents/lookup",
    response_model=Page[ResidentRead],
    tags=["residents"],
    summary="Find a resident by full ID number or phone (sent in the body, never in the URL)",
    responses=problems(422),
)
async def lookup_residents(
    data: ResidentLookup, session: DbSession, principal: ResidentsReader, cipher: Cipher
) -> Page[ResidentRead]:
    return Page(items=await service.lookup(session, principal, cipher, data))


@router.post(
    "/residents",
    response_model=ResidentRead,
    status_code=201,
    tags=["residents"],
    summary="Register a resident (ID number checked, personal data encrypted)",
    responses=problems(409, 422),
)
async def create_resident(
    data: ResidentCreate,
    session: DbSession,
    principal: ResidentsWriter,
    directory: CurrentDirectory,
    cipher: Cipher,
    response: Response,
) -> ResidentRead:
    r = await service.create_resident(session, principal, directory, cipher, data)
    _etag_headers(response, service.resident_etag(r))
    response.headers["Location"] = f"/api/v1/proxy/residents/{r.id}"
    return (await service.reads(session, [r], cipher, principal))[0]


@router.get(
    "/residents/{resident_id}",
    response_model=ResidentRead,
    tags=["residents"],
    summary="One resident (ID number and phone masked)",
    responses={**problems(404, 422), 304: {"description": "Not modified"}},
)
async def get_resident(resident_id: uuid.UUID, principal: ResidentsReader, request: Request) -> Response:
    # The field app's hottest read: asyncpg's own connection where there is one (``hot_read``),
    # and no more dependencies than the permission check (the app's cipher read from its state).
    async with hot_read(request.app.state.read_engine) as conn:
        r = await service.resident_row(conn, principal, resident_id)
    etag = service.resident_etag(r)
    if not_modified(request, etag):
        return not_modified_response(etag)
    item = service.row_items([r], state_of(request).pii, principal)[0]
    return json_response(item, headers=_cache_headers(etag))


@router.patch(
    "/residents/{resident_id}",
    response_model=ResidentRead,
    tags=["residents"],
    summary="Update a resident after a survey (If-Match; stale → 412)",
    responses=problems(404, 409, 412, 422),
)
async def update_resident(
    resident_id: uuid.UUID,
    data: ResidentUpdate,
    session: DbSession,
    principal: ResidentsWriter,
    directory: CurrentDirectory,
    cipher: Cipher,
    response: Response,
    if_match: IfMatch = None,
) -> ResidentRead:
    r = await service.update_resident(session, principal, directory, cipher, resident_id, data, if_match)
    _etag_headers(response, service.resident_etag(r))
    return (await service.reads(session, [r], cipher, principal))[0]


@router.post(
    "/residents/{resident_id}/removal",
    response_model=ResidentRead,
    tags=["residents"],
    summary="Take a resident off the register (moved away / deceased), keeping the record",
    responses=problems(404, 409, 412, 422),
)
async def remove_resident(
    resident_id: uuid.UUID,
    data: ResidentRemove,
    session: DbSession,
    principal: ResidentsWriter,
    cipher: Cipher,
    response: Response,
    if_match: IfMatch = None,
) -> ResidentRead:
    r = await service.remove_resident(session, principal, resident_id, data, if_match)
    _etag_headers(response, service.resident_etag(r))
    return (await service.reads(session, [r], cipher, principal))[0]


@router.post(
    "/residents/{resident_id}/reveal",
    response_model=RevealRead,
    tags=["residents"],
    summary="Reveal a resident's full ID number / phone, with a reason (audited)",
    responses=problems(404, 422),
)
async def reveal_resident(
    resident_id: uuid.UUID,
    data: RevealRequest,
    session: DbSession,
    principal: Revealer,
    cipher: Cipher,
    response: Response,
) -> RevealRead:
    response.headers["Cache-Control"] = "no-store"
    return await service.reveal(session, principal, cipher, resident_id, data)


@router.get(
    "/reveals",
    response_model=Page[RevealAuditRead],
    tags=["audit"],
    summary="The reveal audit trail, newest first",
    responses=problems(422),
)
async def list_reveals(
    session: DbSession,
    principal: AuditReader,
    resident_id: uuid.UUID | None = None,
    actor: Annotated[str | None, Query(max_length=64)] = None,
    cursor: CursorParam = None,
    limit: LimitParam = 50,
) -> Page[RevealAuditRead]:
    after = read_cursor(cursor, cursor_int)
    after_id = after[0] if after else None
    rows = await service.reveals(
        session, principal, resident_id=resident_id, actor=actor, after=after_id, limit=limit + 1
    )
    items = [
        RevealAuditRead(
            id=r.id or 0,
            at=r.at,
            actor=r.actor,
            actor_kind=r.actor_kind,
            resident_id=r.resident_id,
            community=r.community,
            fields=r.fields.split(","),
            reason=r.reason,
            request_id=r.request_id,
        )
        for r in rows[:limit]
    ]
    nxt = encode_cursor([items[-1].id]) if len(rows) > limit else None
    return Page(items=items, next_cursor=nxt)
