"""Stations dependencies: the PII cipher, settings and the clock (overridable in tests), this
process's snapshot of the station directory, who is calling with which permission, the path
parameters the routers share, and the routers' shape."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request

from doorstep_shared.auth.permissions import Permission
from doorstep_shared.auth.security import authenticated_router, require
from doorstep_shared.auth.tokens import Principal
from doorstep_shared.clock import utcnow
from doorstep_shared.directory import Directory
from doorstep_shared.pii import PiiCipher
from doorstep_shared.webhooks import WebhookConfig

from .config import StationsSettings
from .snapshot.service import Snapshot
from .state import state_of


async def get_pii(request: Request) -> PiiCipher:
    return state_of(request).pii


async def get_stations_settings(request: Request) -> StationsSettings:
    return state_of(request).settings


async def now() -> dt.datetime:
    return utcnow()


Pii = Annotated[PiiCipher, Depends(get_pii)]
Settings = Annotated[StationsSettings, Depends(get_stations_settings)]
Now = Annotated[dt.datetime, Depends(now)]


async def current_directory(request: Request) -> Directory:
    """The org directory as the app last received it (503 while it has none)."""
    return state_of(request).directory.directory()


CurrentDirectory = Annotated[Directory, Depends(current_directory)]


async def keepers_follow_staff(request: Request) -> bool:
    """Whether the stations follow the gateway's staff roster: keepers are then the staff
    records' (``stations`` of station keepers), not writable here."""
    return state_of(request).roster.following


KeepersFollowStaff = Annotated[bool, Depends(keepers_follow_staff)]


async def served(request: Request) -> Snapshot:
    """The station directory for a hot read (``snapshot.service.StationsSnapshot.served``): no
    database session unless the revision is due for a check. Called by the handler, not
    declared as a dependency: FastAPI solves every node of a route's tree on every request
    (issue #23)."""
    state = state_of(request)
    return await state.snapshot.served(state.sessionmaker)


async def get_webhook_config(request: Request) -> WebhookConfig:
    return state_of(request).webhook_config


def api_router(**options: Any) -> APIRouter:
    """A router under ``/api/v1/stations``, authenticated by default (a route declares its
    permission with one of the principals below)."""
    return authenticated_router(prefix="/api/v1/stations", **options)


Reader = Annotated[Principal, Depends(require(Permission.STATIONS_READ))]
Manager = Annotated[Principal, Depends(require(Permission.STATIONS_MANAGE))]
BookingsReader = Annotated[Principal, Depends(require(Permission.BOOKINGS_READ))]
BookingsWriter = Annotated[Principal, Depends(require(Permission.BOOKINGS_WRITE))]
TicketsReader = Annotated[Principal, Depends(require(Permission.TICKETS_READ))]
TicketsWriter = Annotated[Principal, Depends(require(Permission.TICKETS_WRITE))]
FiguresReader = Annotated[Principal, Depends(require(Permission.FIGURES_READ))]

Code = Annotated[str, Path(max_length=64)]
Id = Annotated[int, Path(ge=1, le=2**31 - 1)]  # INTEGER keys (PostgreSQL int4)
