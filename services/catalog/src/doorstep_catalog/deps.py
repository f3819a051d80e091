"""Catalog dependencies: this replica's catalogue index, who is calling with which permission,
the path and header parameters the routers share, and the routers' shape."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Path, Request

from doorstep_shared.auth.permissions import Permission
from doorstep_shared.auth.security import current_principal, require
from doorstep_shared.auth.tokens import Principal
from doorstep_shared.directory import Directory

from .items.index import CatalogIndex
from .state import state_of


def api_router() -> APIRouter:
    """A router under ``/api/v1/catalog``, authenticated by default (a route declares its
    permission with one of the principals below)."""
    return APIRouter(prefix="/api/v1/catalog", dependencies=[Depends(current_principal)])


async def get_index(request: Request) -> CatalogIndex:
    return state_of(request).catalog_index


Index = Annotated[CatalogIndex, Depends(get_index)]

CatalogReader = Annotated[Principal, Depends(require(Permission.CATALOG_READ))]
CatalogWriter = Annotated[Principal, Depends(require(Permission.CATALOG_WRITE))]
TipWriter = Annotated[Principal, Depends(require(Permission.TIPS_WRITE))]
BriefingWriter = Annotated[Principal, Depends(require(Permission.BRIEFINGS_WRITE))]

ItemCode = Annotated[str, Path(max_length=64, pattern=r"^[a-z0-9][a-z0-9-]*$")]
IfMatch = Annotated[str | None, Header(max_length=200, description="The ETag you read")]


async def current_directory(request: Request) -> Directory:
    """The org directory as the app last received it (503 while it has none)."""
    return state_of(request).directory.directory()


CurrentDirectory = Annotated[Directory, Depends(current_directory)]
