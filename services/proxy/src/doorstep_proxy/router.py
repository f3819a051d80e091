"""Proxy HTTP routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from doorstep_shared.app import DbSession
from doorstep_shared.permissions import Permission
from doorstep_shared.security import current_principal, require
from doorstep_shared.tokens import Principal

from . import service
from .schemas import CompoundRead

router = APIRouter(
    prefix="/api/v1/proxy", tags=["proxy"], dependencies=[Depends(current_principal)]
)


@router.get(
    "/compounds",
    response_model=list[CompoundRead],
    summary="List compounds (小区) visible to the caller",
)
async def list_compounds(
    session: DbSession, principal: Annotated[Principal, Depends(require(Permission.COMPOUNDS_READ))]
) -> list[CompoundRead]:
    return [CompoundRead.model_validate(c) for c in await service.compounds(session, principal)]
