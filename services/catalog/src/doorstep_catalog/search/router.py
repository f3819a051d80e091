"""Search routes: ranked item search (``GET /items``), open reports, misses, alias-from-miss."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import Query, Request, Response

from doorstep_shared.app import DbSession
from doorstep_shared.http import problems
from doorstep_shared.http.compression import cached_body_response
from doorstep_shared.http.pagination import CursorParam, LimitParam

from ..deps import CatalogReader, CatalogWriter, CountyParam, Index, api_router, county_of, served
from ..items.schemas import ItemPage
from ..state import state_of
from . import service
from .schemas import AliasAdded, AliasFromMiss, MissPage, SearchOpened

router = api_router()


@router.get(
    "/items",
    response_model=ItemPage,
    summary="Search or browse items (phrases, pinyin, initials, slips, traditional characters)",
    tags=["items"],
    responses=problems(404, 422),
)
async def list_items(
    request: Request,
    principal: CatalogReader,
    limit: LimitParam = 20,
    cursor: CursorParam = None,
    q: Annotated[str | None, Query(max_length=1000, description="Words, pinyin or initials, as people type")] = None,
    category: Annotated[str | None, Query(max_length=64)] = None,
    proxy_eligible: bool | None = None,
    channel: Literal["window", "doorstep", "online"] | None = None,
    status: Literal["draft", "published", "retired"] | None = None,
    county: CountyParam = None,
) -> Any:
    # Both from the snapshot, no session: browsing's page serialised once per revision, a
    # search's ranked and its event recorded in a group commit (service.search_log).
    handbook = county_of(request, principal, county)
    snap = (await served(request)).of(handbook)
    if q is None or not q.strip():
        body = service.browse_body(
            snap,
            principal,
            category=category,
            proxy_eligible=proxy_eligible,
            channel=channel,
            status=status,
            cursor=cursor,
            limit=limit,
        )
        return cached_body_response(request, body, media_type="application/json")
    return await service.search_items(
        snap,
        state_of(request).search_log,
        principal,
        handbook,
        q=q,
        category=category,
        proxy_eligible=proxy_eligible,
        channel=channel,
        status=status,
        cursor=cursor,
        limit=limit,
    )


@router.post(
    "/search/opened",
    status_code=204,
    summary="Report that an item was opened from a search's results (its search_id)",
    tags=["search"],
    responses=problems(404, 422),
)
async def report_open(session: DbSession, _: CatalogReader, body: SearchOpened) -> Response:
    await service.report_open(session, body)
    return Response(status_code=204)


@router.get(
    "/search/misses",
    response_model=MissPage,
    summary="Top searches that found nothing or whose results were not opened (admins)",
    tags=["search"],
    responses=problems(422),
)
async def misses(
    request: Request,
    session: DbSession,
    principal: CatalogWriter,
    days: Annotated[int, Query(ge=1, le=365)] = 7,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> MissPage:
    return await service.misses(session, principal, county_of(request, principal), days=days, limit=limit)


@router.post(
    "/search/misses/alias",
    response_model=AliasAdded,
    summary="Make a missed query an alias of an item, in one call (admins)",
    tags=["search"],
    responses=problems(404, 409, 422),
)
async def alias_from_miss(
    request: Request, session: DbSession, principal: CatalogWriter, index: Index, body: AliasFromMiss
) -> AliasAdded:
    return await service.alias_from_miss(session, index, principal, county_of(request, principal), body)
