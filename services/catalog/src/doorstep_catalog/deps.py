"""Catalog dependencies: this replica's catalogue index, who is calling with which permission,
the path and header parameters the routers share, and the routers' shape."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Path, Request
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from doorstep_shared.auth.permissions import Permission
from doorstep_shared.auth.security import current_principal, get_verifier, oauth2_scheme, public, require
from doorstep_shared.auth.tokens import Principal, TokenVerifier
from doorstep_shared.directory import Directory

from .items.index import CatalogIndex, Snapshot
from .state import state_of


def public_router() -> APIRouter:
    """A router under ``/api/v1/catalog`` whose routes are open on purpose (public information);
    each is on the public list of ``tests/test_route_permissions.py``."""
    return APIRouter(prefix="/api/v1/catalog", dependencies=[Depends(public)])


async def optional_reader(
    request: Request,
    token: Annotated[str | None, Depends(oauth2_scheme)],
    verifier: Annotated[TokenVerifier, Depends(get_verifier)],
) -> Principal | None:
    """None without a bearer token; with one, the caller as a ``catalog:read`` route sees them
    (401 for a bad token, 403 without the permission), so staff behaviour does not change."""
    if not token:
        return None
    principal = await current_principal(request, token, verifier)
    return await require(Permission.CATALOG_READ)(principal)


def api_router() -> APIRouter:
    """A router under ``/api/v1/catalog``, authenticated by default (a route declares its
    permission with one of the principals below)."""
    return APIRouter(prefix="/api/v1/catalog", dependencies=[Depends(current_principal)])


async def get_index(request: Request) -> CatalogIndex:
    return state_of(request).catalog_index


Index = Annotated[CatalogIndex, Depends(get_index)]


async def get_sessions(request: Request) -> async_sessionmaker[AsyncSession]:
    """The app's sessionmaker, for reads served from the snapshot that need the database only
    to check the revision now and then (``CatalogIndex.served``): no session per request."""
    return state_of(request).sessionmaker


Sessions = Annotated[async_sessionmaker[AsyncSession], Depends(get_sessions)]


async def served_snapshot(request: Request) -> Snapshot:
    """The catalogue snapshot for a hot read (``CatalogIndex.served``): one dependency, no
    database session unless the revision is due for a check."""
    state = state_of(request)
    return await state.catalog_index.served(state.sessionmaker)


Served = Annotated[Snapshot, Depends(served_snapshot)]

CatalogReader = Annotated[Principal, Depends(require(Permission.CATALOG_READ))]
CatalogWriter = Annotated[Principal, Depends(require(Permission.CATALOG_WRITE))]
TipWriter = Annotated[Principal, Depends(require(Permission.TIPS_WRITE))]
BriefingWriter = Annotated[Principal, Depends(require(Permission.BRIEFINGS_WRITE))]
# Public routes that show staff more when they bring a token (the sheet of a draft, tips).
OptionalReader = Annotated[Principal | None, Depends(optional_reader)]

ItemCode = Annotated[str, Path(max_length=64, pattern=r"^[a-z0-9][a-z0-9-]*$")]
IfMatch = Annotated[str | None, Header(max_length=200, description="The ETag you read")]


async def current_directory(request: Request) -> Directory:
    """The org directory as the app last received it (503 while it has none)."""
    return state_of(request).directory.directory()


CurrentDirectory = Annotated[Directory, Depends(current_directory)]
