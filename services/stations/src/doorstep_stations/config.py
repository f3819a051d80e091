"""Stations settings (env prefix ``DOORSTEP_STATIONS_``); the personal-data keys and the webhook
knobs come from the shared mixins."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from doorstep_shared.auth.service_keys import ServiceCredentials, ServiceKey, dev_service_key
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

    service_key: str | None = Field(
        None,
        repr=False,
        description="The stations' own Ed25519 key for reading the gateway's staff roster: `kid:base64url-seed` "
        "(`python -m doorstep_tools.service_keys new stations`; the gateway trusts its public half); "
        "outside production, unset means a development key under var/keys/services; in production, unset "
        "means the keepers do not follow the staff records",
    )

    def service_credentials(self) -> ServiceCredentials | None:
        """The stations' own identity towards the gateway (configured, the development key, or none)."""
        if self.service_key:
            return ServiceCredentials(ServiceKey.from_config(self.service_name, self.service_key))
        if self.is_production:
            return None
        return ServiceCredentials(dev_service_key(self.service_keys_dir, self.service_name))


@lru_cache
def get_settings() -> StationsSettings:
    return StationsSettings()
