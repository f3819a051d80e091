"""Directory routes: the county's communities and grids, and its staff."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from doorstep_shared.app import DbSession
from doorstep_shared.auth.permissions import Permission
from doorstep_shared.auth.security import require
from doorstep_shared.auth.tokens import Principal
from doorstep_shared.http import problems

from . import service
from .schemas import CommunityRead, UserRead

router = APIRouter(prefix="/api/v1/directory", tags=["directory"])


@router.get(
    "/communities",
    response_model=list[CommunityRead],
    summary="The county's communities and their grids",
    responses=problems(401, 403),
)
async def communities(
    session: DbSession, _: Annotated[Principal, Depends(require(Permission.CATALOG_READ))]
) -> list[CommunityRead]:
    return await service.communities(session)


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
