"""Versions routes: an item's published versions, and what changed since a cursor or a date."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query, Request

from doorstep_shared.app import DbSession
from doorstep_shared.http import problems
from doorstep_shared.http.pagination import CursorParam, LimitParam

from ..deps import CatalogReader, ItemCode, api_router, county_of
from . import service
from .schemas import ChangesPage, VersionPage, VersionRead

router = api_router()


@router.get(
    "/items/{code}/versions",
    response_model=VersionPage,
    summary="An item's published versions, newest first",
    tags=["versions"],
    responses=problems(404),
)
async def list_versions(
    request: Request,
    session: DbSession,
    principal: CatalogReader,
    code: ItemCode,
    limit: LimitParam = 50,
    cursor: CursorParam = None,
) -> VersionPage:
    county = county_of(request, principal)
    return await service.list_versions(session, principal, county, code, cursor=cursor, limit=limit)


@router.get(
    "/items/{code}/versions/{number}",
    response_model=VersionRead,
    summary="Read one published version of an item",
    tags=["versions"],
    responses=problems(404),
)
async def read_version(
    request: Request,
    session: DbSession,
    principal: CatalogReader,
    code: ItemCode,
    number: Annotated[int, Path(ge=1, le=1_000_000)],
) -> VersionRead:
    return await service.read_version(session, principal, county_of(request, principal), code, number)


@router.get(
    "/changes",
    response_model=ChangesPage,
    summary="What changed since a cursor or an ISO date, field by field",
    tags=["versions"],
    responses=problems(422),
)
async def changes(
    request: Request,
    session: DbSession,
    principal: CatalogReader,
    since: Annotated[
        str | None, Query(max_length=512, description="A cursor from `next_cursor`, or an ISO date")
    ] = None,
    limit: LimitParam = 100,
) -> ChangesPage:
    return await service.changes(session, county_of(request, principal), since=since, limit=limit)
