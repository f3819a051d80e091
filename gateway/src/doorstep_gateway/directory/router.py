"""Directory routes: counties → communities → grids → compounds (read by staff, written by
county admins), the whole tree, the public export the services copy, imports, and the staff."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Path, Query, Request, Response, UploadFile
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from doorstep_shared.app import DbSession
from doorstep_shared.auth.permissions import Permission
from doorstep_shared.auth.security import public, require
from doorstep_shared.auth.tokens import Principal
from doorstep_shared.http import problems
from doorstep_shared.http.conditional import IfMatch, etag_of, not_modified, not_modified_response
from doorstep_shared.http.errors import PayloadTooLarge
from doorstep_shared.http.pagination import CursorParam, LimitParam, Page, encode_cursor

from ..deps import CurrentDirectory, Settings
from ..state import state_of
from . import service
from .schemas import (
    ChangeRead,
    CommunityCreate,
    CommunityRead,
    CommunityUpdate,
    CompoundCreate,
    CompoundRead,
    CompoundUpdate,
    CountyCreate,
    CountyRead,
    CountyUpdate,
    GridCreate,
    GridRead,
    GridUpdate,
    ImportReport,
    Kind,
    UserRead,
)

router = APIRouter(prefix="/api/v1/directory", tags=["directory"])
Reader = Annotated[Principal, Depends(require(Permission.CATALOG_READ))]
Manager = Annotated[Principal, Depends(require(Permission.DIRECTORY_MANAGE))]

READ: dict[str, type[BaseModel]] = {
    "counties": CountyRead,
    "communities": CommunityRead,
    "grids": GridRead,
    "compounds": CompoundRead,
}


async def _read(session: DbSession, kind: str, record: Any) -> dict[str, Any]:
    if kind == "communities":
        return (await service.community_read(session, record)).model_dump(mode="json")
    read: dict[str, Any] = READ[kind].model_validate(record, from_attributes=True).model_dump(mode="json")
    return read


async def _answer(session: DbSession, kind: str, record: Any, status: int = 200) -> JSONResponse:
    return JSONResponse(
        await _read(session, kind, record), status_code=status, headers={"ETag": service.record_etag(kind, record)}
    )


@router.get(
    "/export",
    summary="The active directory as one document (public: org structure, no people)",
    description="Public, no token needed: codes, names, addresses and coordinates of the active counties, "
    "communities, grids and compounds, the document every service copies. `ETag` is the quoted revision "
    "(a content hash); send it back as `If-None-Match` for a 304.",
    dependencies=[Depends(public)],
    responses={304: {"description": "Unchanged since the ETag sent"}},
)
async def export(request: Request, directory: CurrentDirectory) -> Response:
    etag = f'"{directory.revision}"'
    if not_modified(request, etag):
        return not_modified_response(etag, "public, no-cache")
    return JSONResponse(directory.to_export(), headers={"ETag": etag, "Cache-Control": "public, no-cache"})


@router.get(
    "/tree",
    summary="The active directory nested: counties → communities → grids → compounds",
    responses={304: {"description": "Unchanged since the ETag sent"}, **problems(401, 403, 404)},
)
async def tree(
    request: Request,
    _: Reader,
    directory: CurrentDirectory,
    county: Annotated[str | None, Query(max_length=64, description="only this county")] = None,
) -> Response:
    etag = etag_of("tree", directory.revision, county)
    if not_modified(request, etag):
        return not_modified_response(etag)
    return JSONResponse(service.tree(directory, county), headers={"ETag": etag, "Cache-Control": "private, no-cache"})


@router.post(
    "/import",
    response_model=ImportReport,
    summary="Import a directory file (.csv in UTF-8/GBK or .xlsx): every row or none, a report per row",
    description="One row per compound with the columns county_code, county_name, community_code, "
    "community_name, grid_code, grid_name, compound_code, compound_name, address, latitude, longitude "
    "(optional: buildings, households, placeholder; a row with no compound declares a grid). "
    "Records are matched by code: new ones are created, changed ones updated (a compound in another grid "
    "is redrawn), nothing is deleted; the same file twice changes nothing. Any bad row: 422 with the "
    "report, nothing written. `dry_run=true` reports without writing.",
    responses=problems(401, 403, 413, 422),
)
async def import_directory(
    request: Request,
    session: DbSession,
    principal: Manager,
    settings: Settings,
    file: Annotated[
        UploadFile, File(description="the directory file (.csv or .xlsx)", examples=["含山县组织目录.csv"])
    ],
    dry_run: Annotated[bool, Query(description="report what would change, write nothing")] = False,
) -> ImportReport:
    data = await file.read(settings.directory_import_max_bytes + 1)
    if len(data) > settings.directory_import_max_bytes:
        raise PayloadTooLarge(
            f"The file is larger than {settings.directory_import_max_bytes} bytes; split it.", code="file_too_large"
        )
    return await service.import_file(
        session,
        state_of(request).directory,
        principal,
        data,
        file.filename or "",
        dry_run=dry_run,
        max_rows=settings.directory_import_max_rows,
    )


@router.get(
    "/communities",
    response_model=list[CommunityRead],
    summary="Communities (active and ended) with their grids",
    responses=problems(401, 403),
)
async def communities(session: DbSession, _: Reader) -> list[CommunityRead]:
    return await service.communities(session)


@router.get("/counties", response_model=list[CountyRead], summary="Counties", responses=problems(401, 403))
async def counties(session: DbSession, _: Reader) -> list[Any]:
    return await service.records(session, "counties")


@router.get("/grids", response_model=list[GridRead], summary="Grids", responses=problems(401, 403))
async def grids(session: DbSession, _: Reader) -> list[Any]:
    return await service.records(session, "grids")


@router.get(
    "/compounds",
    response_model=Page[CompoundRead],
    summary="Compounds (active and ended) by code, a page at a time",
    responses=problems(401, 403, 422),
)
async def compounds(
    session: DbSession,
    _: Reader,
    community: Annotated[str | None, Query(max_length=64, description="only this community's")] = None,
    grid: Annotated[str | None, Query(max_length=64, description="only this grid's")] = None,
    cursor: CursorParam = None,
    limit: LimitParam = 200,
) -> Page[CompoundRead]:
    items, last = await service.compound_page(session, cursor, limit, community=community, grid=grid)
    return Page(
        items=[CompoundRead.model_validate(c) for c in items], next_cursor=encode_cursor([last]) if last else None
    )


_CREATED = problems(401, 403, 409, 422)


@router.post("/counties", response_model=CountyRead, summary="Create a county", status_code=201, responses=_CREATED)
async def create_county(body: CountyCreate, session: DbSession, principal: Manager) -> Response:
    return await _answer(session, "counties", await service.create(session, principal, "counties", body), 201)


@router.post(
    "/communities", response_model=CommunityRead, summary="Create a community", status_code=201, responses=_CREATED
)
async def create_community(body: CommunityCreate, session: DbSession, principal: Manager) -> Response:
    return await _answer(session, "communities", await service.create(session, principal, "communities", body), 201)


@router.post("/grids", response_model=GridRead, summary="Create a grid", status_code=201, responses=_CREATED)
async def create_grid(body: GridCreate, session: DbSession, principal: Manager) -> Response:
    return await _answer(session, "grids", await service.create(session, principal, "grids", body), 201)


@router.post(
    "/compounds", response_model=CompoundRead, summary="Create a compound", status_code=201, responses=_CREATED
)
async def create_compound(body: CompoundCreate, session: DbSession, principal: Manager) -> Response:
    return await _answer(session, "compounds", await service.create(session, principal, "compounds", body), 201)


@router.get(
    "/users",
    response_model=list[UserRead],
    summary="Staff users visible to the caller (own community; county roles see all)",
    responses=problems(401, 403),
)
async def users(
    session: DbSession, principal: Annotated[Principal, Depends(require(Permission.USERS_READ))]
) -> list[UserRead]:
    return await service.staff_visible_to(session, principal)


CodePath = Annotated[str, Path(max_length=64)]
_READ_ONE = problems(401, 403, 404)
_UPDATE = problems(401, 403, 404, 409, 412, 422)
_UPDATE_DOC = (
    "Only the fields sent change; `active_to` ends the record (null: active again). Send the ETag you read as If-Match."
)


@router.get("/counties/{code}", response_model=CountyRead, summary="One county (ETag)", responses=_READ_ONE)
async def read_county(code: CodePath, session: DbSession, _: Reader) -> Response:
    return await _answer(session, "counties", await service.record(session, "counties", code))


@router.get("/communities/{code}", response_model=CommunityRead, summary="One community (ETag)", responses=_READ_ONE)
async def read_community(code: CodePath, session: DbSession, _: Reader) -> Response:
    return await _answer(session, "communities", await service.record(session, "communities", code))


@router.get("/grids/{code}", response_model=GridRead, summary="One grid (ETag)", responses=_READ_ONE)
async def read_grid(code: CodePath, session: DbSession, _: Reader) -> Response:
    return await _answer(session, "grids", await service.record(session, "grids", code))


@router.get("/compounds/{code}", response_model=CompoundRead, summary="One compound (ETag)", responses=_READ_ONE)
async def read_compound(code: CodePath, session: DbSession, _: Reader) -> Response:
    return await _answer(session, "compounds", await service.record(session, "compounds", code))


@router.patch(
    "/counties/{code}", response_model=CountyRead, summary="Change a county", description=_UPDATE_DOC, responses=_UPDATE
)
async def update_county(
    code: CodePath, body: CountyUpdate, session: DbSession, principal: Manager, if_match: IfMatch = None
) -> Response:
    return await _answer(
        session, "counties", await service.update(session, principal, "counties", code, body, if_match)
    )


@router.patch(
    "/communities/{code}",
    response_model=CommunityRead,
    summary="Change a community",
    description=_UPDATE_DOC,
    responses=_UPDATE,
)
async def update_community(
    code: CodePath, body: CommunityUpdate, session: DbSession, principal: Manager, if_match: IfMatch = None
) -> Response:
    changed = await service.update(session, principal, "communities", code, body, if_match)
    return await _answer(session, "communities", changed)


@router.patch(
    "/grids/{code}", response_model=GridRead, summary="Change a grid", description=_UPDATE_DOC, responses=_UPDATE
)
async def update_grid(
    code: CodePath, body: GridUpdate, session: DbSession, principal: Manager, if_match: IfMatch = None
) -> Response:
    return await _answer(session, "grids", await service.update(session, principal, "grids", code, body, if_match))


@router.patch(
    "/compounds/{code}",
    response_model=CompoundRead,
    summary="Change a compound; a new grid redraws it (its community follows)",
    description=_UPDATE_DOC,
    responses=_UPDATE,
)
async def update_compound(
    code: CodePath, body: CompoundUpdate, session: DbSession, principal: Manager, if_match: IfMatch = None
) -> Response:
    changed = await service.update(session, principal, "compounds", code, body, if_match)
    return await _answer(session, "compounds", changed)


@router.get(
    "/{kind}/{code}/history",
    response_model=list[ChangeRead],
    summary="A record's changes, newest first",
    responses=problems(401, 403, 404),
)
async def record_history(kind: Kind, code: str, session: DbSession, _: Reader) -> list[Any]:
    return await service.history(session, kind, code)
