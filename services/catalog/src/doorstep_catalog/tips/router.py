"""Tips and briefings routes; and the printable explainer of an item, which carries its tips."""

from __future__ import annotations

from typing import Annotated

from fastapi import Body, Path, Query
from fastapi.responses import HTMLResponse

from doorstep_shared.app import DbSession
from doorstep_shared.http import problems
from doorstep_shared.http.pagination import CursorParam, LimitParam

from ..deps import (
    BriefingWriter,
    CatalogReader,
    CatalogWriter,
    CurrentDirectory,
    Index,
    ItemCode,
    TipWriter,
    api_router,
)
from ..http import CACHE
from . import service
from .schemas import BriefingCreate, BriefingPage, BriefingRead, SinceBriefing, TipCreate, TipHide, TipPage, TipRead

router = api_router()


@router.get(
    "/items/{code}/sheet",
    response_class=HTMLResponse,
    summary="Printable one-page explainer (政策明白纸), HTML",
    tags=["items"],
    responses=problems(404),
)
async def sheet(session: DbSession, principal: CatalogReader, index: Index, code: ItemCode) -> HTMLResponse:
    html = await service.item_sheet(session, index, principal, code)
    return HTMLResponse(html, headers={"Cache-Control": CACHE})


# ---------------------------------------------------------------- tips


@router.get(
    "/items/{code}/tips",
    response_model=TipPage,
    summary="Tips colleagues left on an item",
    tags=["tips"],
    responses=problems(404),
)
async def list_tips(
    session: DbSession,
    principal: CatalogReader,
    code: ItemCode,
    include_hidden: bool = False,
    limit: LimitParam = 50,
    cursor: CursorParam = None,
) -> TipPage:
    return await service.list_tips(session, principal, code, include_hidden=include_hidden, cursor=cursor, limit=limit)


@router.post(
    "/items/{code}/tips",
    response_model=TipRead,
    status_code=201,
    summary="Leave a tip (实战窍门) on an item",
    tags=["tips"],
    responses=problems(404, 422),
)
async def add_tip(session: DbSession, principal: TipWriter, code: ItemCode, body: TipCreate) -> TipRead:
    return await service.add_tip(session, principal, code, body.body)


@router.post(
    "/tips/{tip_id}/hide",
    response_model=TipRead,
    summary="Hide a tip (community admins, their community's tips)",
    tags=["tips"],
    responses=problems(404, 422),
)
async def hide_tip(
    session: DbSession,
    principal: CatalogWriter,
    tip_id: Annotated[int, Path(ge=1, le=2**31)],
    body: Annotated[TipHide | None, Body()] = None,
) -> TipRead:
    return await service.hide_tip(session, principal, tip_id, body.reason if body else "")


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
    session: DbSession, principal: BriefingWriter, directory: CurrentDirectory, body: BriefingCreate
) -> BriefingRead:
    return await service.create_briefing(session, principal, directory, body)


@router.get(
    "/briefings",
    response_model=BriefingPage,
    summary="Recent briefings of the communities you see, newest first",
    tags=["briefings"],
    responses=problems(422),
)
async def list_briefings(
    session: DbSession,
    principal: CatalogReader,
    community: Annotated[str | None, Query(max_length=64, pattern=r"^[a-z0-9][a-z0-9-]*$")] = None,
    limit: LimitParam = 20,
    cursor: CursorParam = None,
) -> BriefingPage:
    return await service.list_briefings(session, principal, community=community, cursor=cursor, limit=limit)


@router.get(
    "/briefings/since-my-last",
    response_model=SinceBriefing,
    summary="Items changed since the last briefing you attended",
    tags=["briefings"],
)
async def since_my_last(session: DbSession, principal: CatalogReader) -> SinceBriefing:
    return await service.changes_since_my_last_briefing(session, principal)


@router.get(
    "/briefings/{briefing_id}",
    response_model=BriefingRead,
    summary="Read a briefing",
    tags=["briefings"],
    responses=problems(404),
)
async def get_briefing(
    session: DbSession,
    principal: CatalogReader,
    briefing_id: Annotated[int, Path(ge=1, le=2**31)],
) -> BriefingRead:
    return await service.get_briefing(session, principal, briefing_id)
