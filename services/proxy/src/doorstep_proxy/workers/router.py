"""HTTP routes for workers' field profiles and grid teams (thin: parse, call, return)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Query, Response

from doorstep_shared.app import DbSession
from doorstep_shared.auth.permissions import Permission
from doorstep_shared.auth.security import authenticated_router, require
from doorstep_shared.auth.tokens import Principal
from doorstep_shared.http import problems
from doorstep_shared.http.pagination import (
    CursorParam,
    LimitParam,
    Page,
    cursor_text,
    encode_cursor,
    read_cursor,
)

from ..deps import CurrentDirectory, IfMatch
from . import service
from .schemas import GridTeam, WorkerFieldProfile, WorkerRead, WorkerStatus

router = authenticated_router(prefix="/api/v1/proxy")

WorkersReader = Annotated[Principal, Depends(require(Permission.WORKERS_READ))]
WorkersWriter = Annotated[Principal, Depends(require(Permission.WORKERS_WRITE))]
Code = Annotated[str, Query(max_length=64)]
UsernamePath = Annotated[str, Path(pattern=r"^[a-z0-9][a-z0-9._-]{0,63}$")]


@router.get(
    "/workers",
    response_model=Page[WorkerRead],
    tags=["workers"],
    summary="List proxy workers' field profiles",
    responses=problems(422),
)
async def list_workers(
    session: DbSession,
    principal: WorkersReader,
    community: Code | None = None,
    grid: Code | None = None,
    status: WorkerStatus | None = None,
    cursor: CursorParam = None,
    limit: LimitParam = 50,
) -> Page[WorkerRead]:
    after = read_cursor(cursor, cursor_text)
    rows = await service.workers(
        session,
        principal,
        community=community,
        grid=grid,
        status=status,
        after=after[0] if after else None,
        limit=limit + 1,
    )
    items = await service.worker_reads(session, rows[:limit])
    nxt = encode_cursor([items[-1].username]) if len(rows) > limit else None
    return Page(items=items, next_cursor=nxt)


@router.get(
    "/workers/{username}",
    response_model=WorkerRead,
    tags=["workers"],
    summary="One worker's field profile",
    responses=problems(404, 422),
)
async def get_worker(
    username: UsernamePath, session: DbSession, principal: WorkersReader, response: Response
) -> WorkerRead:
    found = await service.worker(session, principal, username)
    response.headers["ETag"] = service.worker_etag(found)
    return (await service.worker_reads(session, [found]))[0]


@router.put(
    "/workers/{username}",
    response_model=WorkerRead,
    tags=["workers"],
    summary="Replace a worker's field attributes (categories, availability)",
    description="Workers are added, moved between grids and deactivated as staff accounts at the gateway "
    "(`/api/v1/staff`); the proxy follows those records within seconds. This route changes only what the "
    "proxy owns: the item categories a worker knows and whether they are on leave. An unknown username is "
    "404; a deactivated worker 409 `worker_inactive`.",
    responses=problems(404, 409, 412, 422),
)
async def put_worker(
    username: UsernamePath,
    data: WorkerFieldProfile,
    session: DbSession,
    principal: WorkersWriter,
    response: Response,
    if_match: IfMatch = None,
) -> WorkerRead:
    found = await service.update_field_profile(session, principal, username, data, if_match)
    response.headers["ETag"] = service.worker_etag(found)
    return (await service.worker_reads(session, [found]))[0]


@router.get(
    "/grids/{grid}/team",
    response_model=GridTeam,
    tags=["workers"],
    summary="The proxy team of a grid",
    responses=problems(404, 422),
)
async def get_grid_team(
    grid: Annotated[str, Path(max_length=64)],
    session: DbSession,
    principal: WorkersReader,
    directory: CurrentDirectory,
) -> GridTeam:
    return await service.grid_team(session, principal, directory, grid)
