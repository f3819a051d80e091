"""Items routes: categories, items (search, read, create, edit) and the whole-catalogue export."""

from __future__ import annotations

from typing import Any

from fastapi import Request, Response

from doorstep_shared.app import DbSession
from doorstep_shared.http import NOT_MODIFIED, not_modified, not_modified_response, problems

from ..deps import CatalogReader, CatalogWriter, IfMatch, Index, ItemCode, Served, api_router
from ..http import CACHE, category_etag, item_etag, json_response
from . import service
from .schemas import (
    CatalogExport,
    CategoryCreate,
    CategoryRead,
    CategoryUpdate,
    ItemCreate,
    ItemRead,
    ItemUpdate,
)

router = api_router()

# ---------------------------------------------------------------- categories


@router.get("/categories", response_model=list[CategoryRead], summary="List item categories", tags=["items"])
async def list_categories(_: CatalogReader, snap: Served) -> Response:
    # From the snapshot, serialised once per revision (the body list[CategoryRead] gives).
    return Response(snap.categories_body(), media_type="application/json")


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
async def create_item(session: DbSession, principal: CatalogWriter, body: ItemCreate, response: Response) -> ItemRead:
    item = await service.create_item(session, principal, body)
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
async def get_item(request: Request, principal: CatalogReader, snap: Served, code: ItemCode) -> Any:
    # From the snapshot, serialised once per revision: no database session per request.
    body, etag = service.item_response(snap, principal, code)
    if not_modified(request, etag):
        return not_modified_response(etag, CACHE)
    return json_response(body, etag)


@router.patch(
    "/items/{code}",
    response_model=ItemRead,
    summary="Edit an item (If-Match required; a published edit makes a new version)",
    tags=["items"],
    responses=problems(404, 409, 412, 422, 428),
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
    response.headers["ETag"] = item_etag(item)
    return item


@router.get(
    "/export",
    response_model=None,
    summary="The whole published catalogue in one compact document (ETag; 304)",
    tags=["items"],
    responses={
        200: {"model": CatalogExport, "description": "Every published item and the categories"},
        **NOT_MODIFIED,
    },
)
async def export(request: Request, session: DbSession, _: CatalogReader, index: Index) -> Response:
    snap = await service.snapshot(session, index)
    etag = snap.export_etag
    if not_modified(request, etag):
        return not_modified_response(etag, CACHE)
    return json_response(snap.export_body(), etag)
