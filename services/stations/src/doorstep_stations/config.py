"""Stations settings (env prefix ``DOORSTEP_STATIONS_``)."""

from __future__ import annotations

from functools import lru_cache

from pydantic_settings import SettingsConfigDict

from doorstep_shared.config import ServiceSettings


class StationsSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="DOORSTEP_STATIONS_", extra="ignore")

    port: int = 8003
    service_name: str = "stations"


@lru_cache
def get_settings() -> StationsSettings:
    return StationsSettings()
