"""Items routes: categories, items (search, read, create, edit) and the whole-catalogue export."""

from __future__ import annotations

from typing import Any

from fastapi import Request, Response

from doorstep_shared.app import DbSession
from doorstep_shared.http import NOT_MODIFIED, not_modified, not_modified_response, problems
from doorstep_shared.http.compression import cached_body_response

from ..deps import CatalogReader, CatalogWriter, CountyParam, IfMatch, Index, ItemCode, api_router, county_of, served
from ..http import CACHE, category_etag, item_etag, json_response
from ..state import state_of
from . import service
from .schemas import (
    CatalogExport,
    CategoryCreate,
    CategoryRead,
    CategoryUpdate,
    HandbookImport,
    HandbookImported,
    ItemCreate,
    ItemRead,
    ItemUpdate,
)

router = api_router()

# ---------------------------------------------------------------- categories


@router.get("/categories", response_model=list[CategoryRead], summary="List item categories", tags=["items"])
async def list_categories(request: Request, _: CatalogReader) -> Response:
    # One taxonomy for every county's handbook: from the snapshot, serialised once per revision.
    return cached_body_response(request, (await served(request)).categories_body(), media_type="application/json")


@router.post(
    "/categories",
    response_model=CategoryRead,
    status_code=201,
    summary="Create a category",
    tags=["items"],
    responses=problems(409, 422),
)
async def create_category(
    session: DbSession, principal: CatalogWriter, body: CategoryCreate, response: Response
) -> CategoryRead:
    category = await service.create_category(session, principal, body)
    response.headers["ETag"] = category_etag(category)
    return CategoryRead.model_validate(category)


@router.patch(
    "/categories/{code}",
    response_model=CategoryRead,
    summary="Rename or reorder a category (If-Match required)",
    tags=["items"],
    responses=problems(404, 409, 412, 422, 428),
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
    response.headers["ETag"] = category_etag(category)
    return CategoryRead.model_validate(category)


# ---------------------------------------------------------------- items


@router.post(
    "/items",
    response_model=ItemRead,
    status_code=201,
    summary="Create an item (draft or published)",
    tags=["items"],
    responses=problems(409, 422),
)
async def create_item(
    request: Request, session: DbSession, principal: CatalogWriter, body: ItemCreate, response: Response
) -> ItemRead:
    item = await service.create_item(session, principal, county_of(request, principal), body)
    response.headers["ETag"] = item_etag(item)
    response.headers["Location"] = f"/api/v1/catalog/items/{item.code}"
    return item


@router.get(
    "/items/{code}",
    response_model=ItemRead,
    summary="Read an item (ETag; If-None-Match → 304)",
    tags=["items"],
    responses={**NOT_MODIFIED, **problems(404)},
)
async def get_item(request: Request, principal: CatalogReader, code: ItemCode, county: CountyParam = None) -> Any:
    # From the county's snapshot, serialised once per revision: no database session per request.
    handbooks = await served(request)
    body, etag = service.item_response(handbooks.of(county_of(request, principal, county)), principal, code)
    if not_modified(request, etag):
        return not_modified_response(etag, CACHE)
    return json_response(request, body, etag)


@router.patch(
    "/items/{code}",
    response_model=ItemRead,
    summary="Edit an item (If-Match required; a published edit makes a new version)",
    tags=["items"],
    responses=problems(404, 409, 412, 422, 428),
)
async def update_item(
    request: Request,
    session: DbSession,
    principal: CatalogWriter,
    code: ItemCode,
    body: ItemUpdate,
    response: Response,
    if_match: IfMatch = None,
) -> ItemRead:
    item = await service.update_item(session, principal, county_of(request, principal), code, body, if_match)
    response.headers["ETag"] = item_etag(item)
    return item


@router.get(
    "/export",
    response_model=None,
    summary="The whole published catalogue in one compact document (ETag; 304)",
    description="Staff: their county's handbook; machine clients bound to communities: their county's. "
    "Tokens that name no county and no community (the services following the catalogue): every county's, "
    "each item naming its `county`, or one county's with `county`.",
    tags=["items"],
    responses={
        200: {"model": CatalogExport, "description": "Every published item and the categories"},
        **NOT_MODIFIED,
        **problems(404),
    },
)
async def export(
    request: Request, session: DbSession, principal: CatalogReader, index: Index, county: CountyParam = None
) -> Response:
    handbooks = await service.snapshot(session, index)
    snap: Any = handbooks
    if principal.county or principal.communities or county is not None:
        snap = handbooks.of(county_of(request, principal, county))
    etag = snap.export_etag
    if not_modified(request, etag):
        return not_modified_response(etag, CACHE)
    return json_response(request, snap.export_body(), etag)


@router.post(
    "/import-from",
    response_model=HandbookImported,
    summary="Copy another county's published handbook into your county, as drafts (county admins)",
    description="Each published item of `from_county` whose code your county does not have yet becomes a "
    "draft of yours; codes you have (any status) are skipped and listed, never overwritten, so a second call "
    "copies only what is new. Edit the drafts and publish them with `PATCH /items/{code}`.",
    tags=["items"],
    responses=problems(403, 404, 409, 422),
)
async def import_from(
    request: Request, session: DbSession, principal: CatalogWriter, body: HandbookImport
) -> HandbookImported:
    directory = state_of(request).directory.current
    known = directory is None or directory.county(body.from_county) is not None
    return await service.import_handbook(session, principal, county_of(request, principal), body, from_known=known)
