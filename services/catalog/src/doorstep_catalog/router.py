"""Catalog HTTP routes (thin: parse, call the service, return)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Header, Path, Query, Request, Response
from fastapi.responses import HTMLResponse

from doorstep_shared.app import DbSession
from doorstep_shared.http import not_modified, not_modified_response
from doorstep_shared.pagination import CursorParam, LimitParam
from doorstep_shared.permissions import Permission
from doorstep_shared.security import current_principal, require
from doorstep_shared.tokens import Principal

from . import service, service_eligibility, service_tips, service_versions
from .index import CatalogIndex
from .schemas import (
    BriefingCreate,
    BriefingPage,
    BriefingRead,
    CatalogExport,
    CategoryCreate,
    CategoryRead,
    CategoryUpdate,
    ChangesPage,
    EligibilityRequest,
    EligibilityResponse,
    ItemCreate,
    ItemPage,
    ItemRead,
    ItemUpdate,
    SinceBriefing,
    TipCreate,
    TipHide,
    TipPage,
    TipRead,
    VersionPage,
    VersionRead,
)

router = APIRouter(
    prefix="/api/v1/catalog",
    dependencies=[Depends(current_principal)],
    responses={
        401: {"description": "Missing or invalid bearer token", "content": {"application/problem+json": {}}},
        403: {"description": "Missing permission", "content": {"application/problem+json": {}}},
    },
)

CatalogReader = Annotated[Principal, Depends(require(Permission.CATALOG_READ))]
CatalogWriter = Annotated[Principal, Depends(require(Permission.CATALOG_WRITE))]
TipWriter = Annotated[Principal, Depends(require(Permission.TIPS_WRITE))]
BriefingWriter = Annotated[Principal, Depends(require(Permission.BRIEFINGS_WRITE))]
ItemCode = Annotated[str, Path(max_length=64, pattern=r"^[a-z0-9][a-z0-9-]*$")]
IfMatch = Annotated[str | None, Header(max_length=200, description="The ETag you read")]
CACHE = "private, no-cache"


async def get_index(request: Request) -> CatalogIndex:
    index: CatalogIndex = request.app.state.catalog_index
    return index


Index = Annotated[CatalogIndex, Depends(get_index)]

PROBLEM: dict[str, Any] = {"content": {"application/problem+json": {}}}
R404: dict[int | str, dict[str, Any]] = {404: {"description": "Not found", **PROBLEM}}
R_WRITE: dict[int | str, dict[str, Any]] = {
    404: {"description": "Not found", **PROBLEM},
    409: {"description": "Conflict (duplicate code, invalid status change)", **PROBLEM},
    412: {"description": "Stale If-Match", **PROBLEM},
    422: {"description": "Invalid input or rule", **PROBLEM},
    428: {"description": "If-Match missing", **PROBLEM},
}


# ---------------------------------------------------------------- categories


@router.get("/categories", response_model=list[CategoryRead], summary="List item categories", tags=["items"])
async def list_categories(session: DbSession, _: CatalogReader) -> list[CategoryRead]:
    return [CategoryRead.model_validate(c) for c in await service.categories(session)]


@router.post(
    "/categories",
    response_model=CategoryRead,
    status_code=201,
    summary="Create a category",
    tags=["items"],
    responses={409: R_WRITE[409], 422: R_WRITE[422]},
)
async def create_category(
    session: DbSession, principal: CatalogWriter, body: CategoryCreate, response: Response
) -> CategoryRead:
    category = await service.create_category(session, principal, body)
    response.headers["ETag"] = service.category_etag(category)
    return CategoryRead.model_validate(category)


@router.patch(
    "/categories/{code}",
    response_model=CategoryRead,
    summary="Rename or reorder a category (If-Match required)",
    tags=["items"],
    responses=R_WRITE,
)
async def update_category(
    session: DbSession,
    principal: CatalogWriter,
    code: ItemCode,
    body: CategoryUpdate,
    response: Response,
    if_match: IfMatch = None,
) -> CategoryRead:
    category = await service.update_category(session, principal, code, body, if_match)
    response.headers["ETag"] = service.category_etag(category)
    return CategoryRead.model_validate(category)


# ---------------------------------------------------------------- items


@router.get(
    "/items",
    response_model=ItemPage,
    summary="Search or browse items (Chinese, full pinyin, pinyin initials)",
    tags=["items"],
    responses={422: R_WRITE[422]},
)
async def list_items(
    session: DbSession,
    principal: CatalogReader,
    index: Index,
    limit: LimitParam = 20,
    cursor: CursorParam = None,
    q: Annotated[str | None, Query(max_length=1000, description="Characters, pinyin or initials")] = None,
    category: Annotated[str | None, Query(max_length=64)] = None,
    proxy_eligible: bool | None = None,
    channel: Literal["window", "doorstep", "online"] | None = None,
    status: Literal["draft", "published", "retired"] | None = None,
) -> ItemPage:
    return await service.list_items(
        session,
        index,
        principal,
        q=q,
        category=category,
        proxy_eligible=proxy_eligible,
        channel=channel,
        status=status,
        cursor=cursor,
        limit=limit,
    )


@router.post(
    "/items",
    response_model=ItemRead,
    status_code=201,
    summary="Create an item (draft or published)",
    tags=["items"],
    responses={409: R_WRITE[409], 422: R_WRITE[422]},
)
async def create_item(session: DbSession, principal: CatalogWriter, body: ItemCreate, response: Response) -> ItemRead:
    item = await service.create_item(session, principal, body)
    response.headers["ETag"] = service.item_etag(item)
    response.headers["Location"] = f"/api/v1/catalog/items/{item.code}"
    return item


@router.get(
    "/items/{code}",
    response_model=ItemRead,
    summary="Read an item (ETag; If-None-Match → 304)",
    tags=["items"],
    responses={304: {"description": "Not modified"}, **R404},
)
async def get_item(request: Request, session: DbSession, principal: CatalogReader, index: Index, code: ItemCode) -> Any:
    item = await service.get_item(session, index, principal, code)
    etag = service.item_etag(item)
    if not_modified(request, etag):
        return not_modified_response(etag, CACHE)
    return _json(item.model_dump_json().encode(), etag)


@router.patch(
    "/items/{code}",
    response_model=ItemRead,
    summary="Edit an item (If-Match required; a published edit makes a new version)",
    tags=["items"],
    responses=R_WRITE,
)
async def update_item(
    session: DbSession,
    principal: CatalogWriter,
    code: ItemCode,
    body: ItemUpdate,
    response: Response,
    if_match: IfMatch = None,
) -> ItemRead:
    item = await service.update_item(session, principal, code, body, if_match)
    response.headers["ETag"] = service.item_etag(item)
    return item


@router.get(
    "/items/{code}/versions",
    response_model=VersionPage,
    summary="An item's published versions, newest first",
    tags=["versions"],
    responses=R404,
)
async def list_versions(
    session: DbSession,
    principal: CatalogReader,
    code: ItemCode,
    limit: LimitParam = 50,
    cursor: CursorParam = None,
) -> VersionPage:
    return await service_versions.list_versions(session, principal, code, cursor=cursor, limit=limit)


@router.get(
    "/items/{code}/versions/{number}",
    response_model=VersionRead,
    summary="Read one published version of an item",
    tags=["versions"],
    responses=R404,
)
async def read_version(
    session: DbSession,
    principal: CatalogReader,
    code: ItemCode,
    number: Annotated[int, Path(ge=1, le=1_000_000)],
) -> VersionRead:
    return await service_versions.read_version(session, principal, code, number)


@router.get(
    "/changes",
    response_model=ChangesPage,
    summary="What changed since a cursor or an ISO date, field by field",
    tags=["versions"],
    responses={422: R_WRITE[422]},
)
async def changes(
    session: DbSession,
    _: CatalogReader,
    since: Annotated[
        str | None, Query(max_length=512, description="A cursor from `next_cursor`, or an ISO date")
    ] = None,
    limit: LimitParam = 100,
) -> ChangesPage:
    return await service_versions.changes(session, since=since, limit=limit)


@router.get(
    "/export",
    response_model=None,
    summary="The whole published catalogue in one compact document (ETag; 304)",
    tags=["items"],
    responses={
        200: {"model": CatalogExport, "description": "Every published item and the categories"},
        304: {"description": "Not modified"},
    },
)
async def export(request: Request, session: DbSession, _: CatalogReader, index: Index) -> Response:
    snap = await service.snapshot(session, index)
    etag = snap.export_etag
    if not_modified(request, etag):
        return not_modified_response(etag, CACHE)
    return _json(snap.export_body(), etag)


def _json(body: bytes, etag: str) -> Response:
    return Response(
        content=body,
        media_type="application/json",
        headers={"ETag": etag, "Cache-Control": CACHE},
    )


@router.get(
    "/items/{code}/sheet",
    response_class=HTMLResponse,
    summary="Printable one-page explainer (政策明白纸), HTML",
    tags=["items"],
    responses=R404,
)
async def sheet(session: DbSession, principal: CatalogReader, index: Index, code: ItemCode) -> HTMLResponse:
    html = await service_tips.item_sheet(session, index, principal, code)
    return HTMLResponse(html, headers={"Cache-Control": CACHE})


# ---------------------------------------------------------------- eligibility


@router.post(
    "/eligibility/evaluate",
    response_model=EligibilityResponse,
    summary="Which items is this resident eligible for, and why",
    tags=["eligibility"],
    responses={422: R_WRITE[422]},
)
async def evaluate(session: DbSession, _: CatalogReader, index: Index, body: EligibilityRequest) -> EligibilityResponse:
    return await service_eligibility.evaluate(session, index, body)


# ---------------------------------------------------------------- tips


@router.get(
    "/items/{code}/tips",
    response_model=TipPage,
    summary="Tips colleagues left on an item",
    tags=["tips"],
    responses=R404,
)
async def list_tips(
    session: DbSession,
    principal: CatalogReader,
    code: ItemCode,
    include_hidden: bool = False,
    limit: LimitParam = 50,
    cursor: CursorParam = None,
) -> TipPage:
    return await service_tips.list_tips(
        session, principal, code, include_hidden=include_hidden, cursor=cursor, limit=limit
    )


@router.post(
    "/items/{code}/tips",
    response_model=TipRead,
    status_code=201,
    summary="Leave a tip (实战窍门) on an item",
    tags=["tips"],
    responses={404: R404[404], 422: R_WRITE[422]},
)
async def add_tip(session: DbSession, principal: TipWriter, code: ItemCode, body: TipCreate) -> TipRead:
    return await service_tips.add_tip(session, principal, code, body.body)


@router.post(
    "/tips/{tip_id}/hide",
    response_model=TipRead,
    summary="Hide a tip (community admins, their community's tips)",
    tags=["tips"],
    responses={404: R404[404], 422: R_WRITE[422]},
)
async def hide_tip(
    session: DbSession,
    principal: CatalogWriter,
    tip_id: Annotated[int, Path(ge=1, le=2**31)],
    body: Annotated[TipHide | None, Body()] = None,
) -> TipRead:
    return await service_tips.hide_tip(session, principal, tip_id, body.reason if body else "")


# ---------------------------------------------------------------- briefings


@router.post(
    "/briefings",
    response_model=BriefingRead,
    status_code=201,
    summary="Record a morning briefing (晨会)",
    tags=["briefings"],
    responses={422: R_WRITE[422]},
)
async def create_briefing(session: DbSession, principal: BriefingWriter, body: BriefingCreate) -> BriefingRead:
    return await service_tips.create_briefing(session, principal, body)


@router.get(
    "/briefings",
    response_model=BriefingPage,
    summary="Recent briefings of the communities you see, newest first",
    tags=["briefings"],
    responses={422: R_WRITE[422]},
)
async def list_briefings(
    session: DbSession,
    principal: CatalogReader,
    community: Annotated[str | None, Query(max_length=64, pattern=r"^[a-z0-9][a-z0-9-]*$")] = None,
    limit: LimitParam = 20,
    cursor: CursorParam = None,
) -> BriefingPage:
    return await service_tips.list_briefings(session, principal, community=community, cursor=cursor, limit=limit)


@router.get(
    "/briefings/since-my-last",
    response_model=SinceBriefing,
    summary="Items changed since the last briefing you attended",
    tags=["briefings"],
)
async def since_my_last(session: DbSession, principal: CatalogReader) -> SinceBriefing:
    return await service_tips.changes_since_my_last_briefing(session, principal)


@router.get(
    "/briefings/{briefing_id}",
    response_model=BriefingRead,
    summary="Read a briefing",
    tags=["briefings"],
    responses=R404,
)
async def get_briefing(
    session: DbSession,
    principal: CatalogReader,
    briefing_id: Annotated[int, Path(ge=1, le=2**31)],
) -> BriefingRead:
    return await service_tips.get_briefing(session, principal, briefing_id)
