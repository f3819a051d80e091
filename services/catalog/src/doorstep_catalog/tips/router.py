"""Tips and briefings routes; and the printable explainer of an item, which carries its tips
for staff and is public for a published item (residents open it from a link or a QR code)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Body, Path, Query, Request, Response
from fastapi.responses import HTMLResponse

from doorstep_shared.app import DbSession
from doorstep_shared.http import NOT_MODIFIED, etag_of, not_modified, problems
from doorstep_shared.http.pagination import CursorParam, LimitParam

from ..deps import (
    BriefingWriter,
    CatalogReader,
    CatalogWriter,
    CountyParam,
    CurrentDirectory,
    Index,
    ItemCode,
    OptionalReader,
    TipWriter,
    api_router,
    county_of,
    public_router,
)
from ..http import CACHE
from ..state import state_of
from . import service
from .schemas import BriefingCreate, BriefingPage, BriefingRead, SinceBriefing, TipCreate, TipHide, TipPage, TipRead
from .sheet import ServiceWindow

router = api_router()
sheet_router = public_router()
# A public sheet may sit in a shared cache a few minutes; a staff one (drafts, tips) may not.
PUBLIC_CACHE = "public, max-age=300"


@sheet_router.get(
    "/items/{code}/sheet",
    response_class=HTMLResponse,
    summary="Printable one-page explainer (政策明白纸), HTML; public for a published item (ETag; 304)",
    description="Without a token: the sheet of a published item (404 for any other), without staff tips. "
    "With a token (`catalog:read`): any item the caller may read, with tips. The page carries a QR code "
    "of its own address (`DOORSTEP_CATALOG_PUBLIC_BASE_URL`, else the request's), the configured service "
    "window and dates in Asia/Shanghai; `print=large` is the large-print variant.",
    tags=["items"],
    responses={**NOT_MODIFIED, **problems(401, 403, 404, 422)},
)
async def sheet(
    request: Request,
    session: DbSession,
    principal: OptionalReader,
    index: Index,
    code: ItemCode,
    print_: Annotated[Literal["large"] | None, Query(alias="print", description="`large`: large print")] = None,
    county: CountyParam = None,
) -> Response:
    settings = state_of(request).settings
    base = settings.public_base_url.rstrip("/") or str(request.base_url).rstrip("/")
    query = "&".join(p for p in (f"county={county}" if county else "", "print=large" if print_ else "") if p)
    url = f"{base}{request.url.path}" + (f"?{query}" if query else "")
    window = ServiceWindow(
        settings.service_window_name,
        settings.service_window_address,
        settings.service_window_phone,
        settings.service_window_hours,
    )
    handbook = county_of(request, principal, county)
    page = await service.item_sheet(
        session, index, principal, handbook, code, url=url, window=window, large=bool(print_)
    )
    # The page's own content is its version (item, tips, settings and template alike).
    etag = etag_of("sheet", page.html)
    headers = {
        "ETag": etag,
        "Cache-Control": PUBLIC_CACHE if principal is None else CACHE,
        "Vary": "Authorization",
        "Content-Security-Policy": page.content_security_policy,
        "X-Content-Type-Options": "nosniff",
    }
    if not_modified(request, etag):
        return Response(status_code=304, headers=headers)
    return HTMLResponse(page.html, headers=headers)


# ---------------------------------------------------------------- tips


@router.get(
    "/items/{code}/tips",
    response_model=TipPage,
    summary="Tips colleagues left on an item",
    tags=["tips"],
    responses=problems(404),
)
async def list_tips(
    request: Request,
    session: DbSession,
    principal: CatalogReader,
    code: ItemCode,
    include_hidden: bool = False,
    limit: LimitParam = 50,
    cursor: CursorParam = None,
) -> TipPage:
    return await service.list_tips(
        session,
        principal,
        county_of(request, principal),
        code,
        include_hidden=include_hidden,
        cursor=cursor,
        limit=limit,
    )


@router.post(
    "/items/{code}/tips",
    response_model=TipRead,
    status_code=201,
    summary="Leave a tip (实战窍门) on an item",
    tags=["tips"],
    responses=problems(404, 422),
)
async def add_tip(
    request: Request, session: DbSession, principal: TipWriter, code: ItemCode, body: TipCreate
) -> TipRead:
    return await service.add_tip(session, principal, county_of(request, principal), code, body.body)


@router.post(
    "/tips/{tip_id}/hide",
    response_model=TipRead,
    summary="Hide a tip (community admins, their community's tips)",
    tags=["tips"],
    responses=problems(404, 422),
)
async def hide_tip(
    request: Request,
    session: DbSession,
    principal: CatalogWriter,
    tip_id: Annotated[int, Path(ge=1, le=2**31)],
    body: Annotated[TipHide | None, Body()] = None,
) -> TipRead:
    return await service.hide_tip(
        session, principal, county_of(request, principal), tip_id, body.reason if body else ""
    )


# ---------------------------------------------------------------- briefings


@router.post(
    "/briefings",
    response_model=BriefingRead,
    status_code=201,
    summary="Record a morning briefing (晨会)",
    tags=["briefings"],
    responses=problems(422),
)
async def create_briefing(
    request: Request, session: DbSession, principal: BriefingWriter, directory: CurrentDirectory, body: BriefingCreate
) -> BriefingRead:
    return await service.create_briefing(session, principal, directory, county_of(request, principal), body)


@router.get(
    "/briefings",
    response_model=BriefingPage,
    summary="Recent briefings of the communities you see, newest first",
    tags=["briefings"],
    responses=problems(422),
)
async def list_briefings(
    request: Request,
    session: DbSession,
    principal: CatalogReader,
    community: Annotated[str | None, Query(max_length=64, pattern=r"^[a-z0-9][a-z0-9-]*$")] = None,
    limit: LimitParam = 20,
    cursor: CursorParam = None,
) -> BriefingPage:
    county = county_of(request, principal)
    return await service.list_briefings(session, principal, county, community=community, cursor=cursor, limit=limit)


@router.get(
    "/briefings/since-my-last",
    response_model=SinceBriefing,
    summary="Items changed since the last briefing you attended",
    tags=["briefings"],
)
async def since_my_last(request: Request, session: DbSession, principal: CatalogReader) -> SinceBriefing:
    return await service.changes_since_my_last_briefing(session, principal, county_of(request, principal))


@router.get(
    "/briefings/{briefing_id}",
    response_model=BriefingRead,
    summary="Read a briefing",
    tags=["briefings"],
    responses=problems(404),
)
async def get_briefing(
    request: Request,
    session: DbSession,
    principal: CatalogReader,
    briefing_id: Annotated[int, Path(ge=1, le=2**31)],
) -> BriefingRead:
    return await service.get_briefing(session, principal, county_of(request, principal), briefing_id)
