"""Catalog dependencies: this replica's catalogue index, who is calling with which permission,
the path and header parameters the routers share, and the routers' shape."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Path, Query, Request
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.requests import HTTPConnection

from doorstep_shared.auth.permissions import Permission
from doorstep_shared.auth.security import authenticated_router, oauth2_scheme, public, require
from doorstep_shared.auth.tokens import Principal
from doorstep_shared.directory import Directory

from .counties import handbook_county
from .items.index import CatalogIndex, Handbooks
from .state import state_of


def public_router() -> APIRouter:
    """A router under ``/api/v1/catalog`` whose routes are open on purpose (public information);
    each is on the public list of ``tests/test_route_permissions.py``."""
    return APIRouter(prefix="/api/v1/catalog", dependencies=[Depends(public)])


async def optional_reader(
    request: Request,
    token: Annotated[str | None, Depends(oauth2_scheme)],
) -> Principal | None:
    """None without a bearer token; with one, the caller as a ``catalog:read`` route sees them
    (401 for a bad token, 403 without the permission), so staff behaviour does not change."""
    if not token:
        return None
    return await require(Permission.CATALOG_READ)(request, token)


def api_router() -> APIRouter:
    """A router under ``/api/v1/catalog``, authenticated by default (a route declares its
    permission with one of the principals below)."""
    return authenticated_router(prefix="/api/v1/catalog")


async def get_index(request: Request) -> CatalogIndex:
    return state_of(request).catalog_index


Index = Annotated[CatalogIndex, Depends(get_index)]


async def get_sessions(request: Request) -> async_sessionmaker[AsyncSession]:
    """The app's sessionmaker, for reads served from the snapshot that need the database only
    to check the revision now and then (``CatalogIndex.served``): no session per request."""
    return state_of(request).sessionmaker


Sessions = Annotated[async_sessionmaker[AsyncSession], Depends(get_sessions)]


async def served(request: Request) -> Handbooks:
    """The handbooks for a hot read (``CatalogIndex.served``): no database session unless the
    revision is due for a check; ``.of(county)`` is one county's. Called by the handler, not
    declared as a dependency: FastAPI solves every node of a route's tree on every request, and
    on an item read a node costs about as much as the handler itself (issue #23)."""
    state = state_of(request)
    return await state.catalog_index.served(state.sessionmaker)


CatalogReader = Annotated[Principal, Depends(require(Permission.CATALOG_READ))]
CatalogWriter = Annotated[Principal, Depends(require(Permission.CATALOG_WRITE))]
TipWriter = Annotated[Principal, Depends(require(Permission.TIPS_WRITE))]
BriefingWriter = Annotated[Principal, Depends(require(Permission.BRIEFINGS_WRITE))]
# Public routes that show staff more when they bring a token (the sheet of a draft, tips).
OptionalReader = Annotated[Principal | None, Depends(optional_reader)]

ItemCode = Annotated[str, Path(max_length=64, pattern=r"^[a-z0-9][a-z0-9-]*$")]
CountyParam = Annotated[
    str | None,
    Query(
        max_length=64,
        pattern=r"^[a-z0-9][a-z0-9-]*$",
        description="Whose handbook: for callers whose token names no county (anonymous, machine clients) "
        "in a deployment of several counties; a staff token's own county otherwise",
    ),
]


def county_of(holder: HTTPConnection, principal: Principal | None, requested: str | None = None) -> str:
    """The county whose handbook the caller reads or writes (``counties.handbook_county``)."""
    return handbook_county(principal, state_of(holder).directory.current, requested)


IfMatch = Annotated[str | None, Header(max_length=200, description="The ETag you read")]


async def current_directory(request: Request) -> Directory:
    """The org directory as the app last received it (503 while it has none)."""
    return state_of(request).directory.directory()


CurrentDirectory = Annotated[Directory, Depends(current_directory)]
