"""Stations settings (env prefix ``DOORSTEP_STATIONS_``); the personal-data keys and the webhook
knobs come from the shared mixins."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from doorstep_shared.config import DirectorySettings, PiiSettings
from doorstep_shared.webhooks import WebhookSettings


class StationsSettings(PiiSettings, WebhookSettings, DirectorySettings):
    model_config = SettingsConfigDict(env_prefix="DOORSTEP_STATIONS_", extra="ignore")

    port: int = 8003
    service_name: str = "stations"

    worker_enabled: bool = Field(True, description="Run the outbox/notification worker in-process")
    worker_interval: float = Field(5.0, ge=0.05, le=3600, description="Seconds between worker passes")
    claim_max_attempts: int = Field(5, ge=1, le=100, description="Wrong claim codes before a drop-off ticket locks")
    cancel_cutoff_hours: float = Field(
        2.0,
        ge=0,
        le=720,
        description="Default: bookings can be cancelled until this long before start",
    )


@lru_cache
def get_settings() -> StationsSettings:
    return StationsSettings()
