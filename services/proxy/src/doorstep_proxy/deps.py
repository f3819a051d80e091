"""Route dependencies shared by the proxy routers."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import Depends, Header, Query, Request

from doorstep_shared.auth.permissions import Permission
from doorstep_shared.auth.security import require
from doorstep_shared.auth.tokens import Principal
from doorstep_shared.directory import Directory
from doorstep_shared.pii import PiiCipher
from doorstep_shared.webhooks import WebhookConfig

from .catalog_client import CatalogClient
from .config import ProxySettings
from .figures.schemas import FiguresScope
from .state import state_of


async def app_settings(request: Request) -> ProxySettings:
    return state_of(request).settings


AppSettings = Annotated[ProxySettings, Depends(app_settings)]


async def get_cipher(request: Request) -> PiiCipher:
    return state_of(request).pii


Cipher = Annotated[PiiCipher, Depends(get_cipher)]


async def get_catalog(request: Request) -> CatalogClient:
    """The app's one catalogue client (its copy of the catalogue lives there)."""
    return state_of(request).catalog


Catalog = Annotated[CatalogClient, Depends(get_catalog)]


async def current_directory(request: Request) -> Directory:
    """The org directory as the app last received it (503 while it has none)."""
    return state_of(request).directory.directory()


CurrentDirectory = Annotated[Directory, Depends(current_directory)]


async def get_webhook_config(request: Request) -> WebhookConfig:
    return state_of(request).webhook_config


IfMatch = Annotated[
    str | None,
    Header(alias="If-Match", max_length=200, description="The ETag you read; stale → 412"),
]


FiguresReader = Annotated[Principal, Depends(require(Permission.FIGURES_READ))]


async def figures_scope(
    community: Annotated[str | None, Query(max_length=64)] = None,
    grid: Annotated[str | None, Query(max_length=64)] = None,
    period_from: Annotated[dt.date | None, Query(alias="from")] = None,
    period_to: Annotated[dt.date | None, Query(alias="to")] = None,
) -> FiguresScope:
    return FiguresScope(community, grid, period_from, period_to)


FiguresQuery = Annotated[FiguresScope, Depends(figures_scope)]
