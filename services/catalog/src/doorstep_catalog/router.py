"""Catalog HTTP routes (thin: parse, call the service, return)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from doorstep_shared.app import DbSession
from doorstep_shared.permissions import Permission
from doorstep_shared.security import current_principal, require
from doorstep_shared.tokens import Principal

from . import service
from .schemas import CategoryRead

router = APIRouter(
    prefix="/api/v1/catalog", tags=["catalog"], dependencies=[Depends(current_principal)]
)

CatalogReader = Annotated[Principal, Depends(require(Permission.CATALOG_READ))]


@router.get("/categories", response_model=list[CategoryRead], summary="List item categories")
async def list_categories(session: DbSession, _: CatalogReader) -> list[CategoryRead]:
    return [CategoryRead.model_validate(c) for c in await service.categories(session)]
