"""The catalog app: the generalist's handbook (全科社工手册)."""

from __future__ import annotations

from fastapi import FastAPI

from doorstep_shared.app import create_service_app
from doorstep_shared.tokens import KeySet

from .config import CatalogSettings, get_settings
from .router import router


def create_app(
    settings: CatalogSettings | None = None, *, key_set: KeySet | None = None
) -> FastAPI:
    return create_service_app(
        settings=settings or get_settings(),
        title="Doorstep catalog",
        description="The generalist's handbook: service items, materials, procedures, rules and tips.",
        package="doorstep_catalog",
        routers=[router],
        key_set=key_set,
        openapi_tags=[{"name": "catalog", "description": "Service catalogue (办事指南)"}],
    )
