"""The proxy app: the generalist's handbook (全科社工手册)."""

from __future__ import annotations

from fastapi import FastAPI

from doorstep_shared.app import create_service_app
from doorstep_shared.tokens import KeySet

from .config import ProxySettings, get_settings
from .router import router


def create_app(settings: ProxySettings | None = None, *, key_set: KeySet | None = None) -> FastAPI:
    return create_service_app(
        settings=settings or get_settings(),
        title="Doorstep proxy",
        description="Doorstep proxy service (朝阳代办): the four-clears ledger, cases, visits and leads.",
        package="doorstep_proxy",
        routers=[router],
        key_set=key_set,
        openapi_tags=[{"name": "proxy", "description": "Doorstep proxy service (上门代办)"}],
    )
