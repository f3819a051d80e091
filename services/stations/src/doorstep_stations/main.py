"""The stations app: the generalist's handbook (全科社工手册)."""

from __future__ import annotations

from fastapi import FastAPI

from doorstep_shared.app import create_service_app
from doorstep_shared.tokens import KeySet

from .config import StationsSettings, get_settings
from .router import router


def create_app(
    settings: StationsSettings | None = None, *, key_set: KeySet | None = None
) -> FastAPI:
    return create_service_app(
        settings=settings or get_settings(),
        title="Doorstep stations",
        description="Party-mass service stations (党群驿站): featured services, hours, bookings and drop-off tickets.",
        package="doorstep_stations",
        routers=[router],
        key_set=key_set,
        openapi_tags=[
            {"name": "stations", "description": "Party-mass service stations (党群驿站)"}
        ],
    )
