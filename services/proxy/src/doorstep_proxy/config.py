"""Proxy settings (env prefix ``DOORSTEP_PROXY_``); the personal-data keys and the webhook knobs
come from the shared mixins."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, model_validator
from pydantic_settings import SettingsConfigDict

from doorstep_shared.auth.service_keys import ServiceCredentials, ServiceKey, dev_service_key
from doorstep_shared.config import AuditSettings, DirectorySettings, PiiSettings
from doorstep_shared.webhooks import WebhookSettings


class ProxySettings(PiiSettings, WebhookSettings, AuditSettings, DirectorySettings):
    model_config = SettingsConfigDict(env_prefix="DOORSTEP_PROXY_", extra="ignore", populate_by_name=True)

    port: int = 8002
    service_name: str = "proxy"

    import_max_bytes: int = Field(
        8 * 1024 * 1024, ge=1024, description="Largest survey sheet accepted for import (bytes)"
    )
    import_max_rows: int = Field(
        20_000, ge=1, description="Most rows read from one survey sheet (empty rows up to the last count too)"
    )
    import_max_unzipped_bytes: int = Field(
        64 * 1024 * 1024, ge=1024, description="Largest uncompressed size of an .xlsx survey sheet (bytes)"
    )
    import_max_seconds: float = Field(
        20.0, gt=0, le=600, description="Longest time reading one survey sheet may take (in a worker thread)"
    )
    catalog_url: str = Field("http://127.0.0.1:8001", description="Catalog service base URL")
    service_key: str | None = Field(
        None,
        repr=False,
        description="The proxy's own Ed25519 key for its calls to the catalog: `kid:base64url-seed` "
        "(`python -m doorstep_tools.service_keys new proxy`; the catalog trusts its public half); "
        "outside production, unset means a development key under var/keys/services",
    )
    holidays_file: Path | None = Field(
        None,
        description="CSV `date,kind[,name]` (kind `holiday` or `workday`) of a State Council holiday notice "
        "newer than the installed chinese-calendar; it overrides the library for deadlines",
    )
    catalog_cache_seconds: float = Field(
        30.0, ge=0, description="How long a catalogue copy is used before asking again"
    )

    worker_enabled: bool | None = Field(
        None,
        description="Run the background tasks in-process (webhook dispatcher, retention purge); "
        "default: yes, except in the test environment (tests drive them themselves)",
    )
    retention_days: int = Field(
        365,
        ge=1,
        le=36500,
        description="Residents off the register (moved away, deceased) longer than this many days "
        "have their personal data erased",
    )
    retention_interval: float = Field(
        3600.0, ge=1, le=7 * 86400, description="Seconds between two retention purge passes"
    )

    file_max_bytes: int = Field(
        10 * 1024 * 1024,
        ge=1024,
        le=64 * 1024 * 1024,
        description="Largest photo or scan of a case material (bytes, as uploaded)",
    )
    file_max_pixels: int = Field(
        40_000_000, ge=10_000, description="Most pixels of a material photo (a decompression bomb is refused)"
    )
    file_thumbnail_edge: int = Field(
        320, ge=64, le=1024, description="Longer edge of a material photo's thumbnail (pixels)"
    )

    @model_validator(mode="after")
    def _service_key_in_production(self) -> ProxySettings:
        if self.is_production and not self.service_key:
            raise ValueError("DOORSTEP_PROXY_SERVICE_KEY must be set in production")
        return self

    @property
    def background_enabled(self) -> bool:
        """Whether the lifespan starts the background tasks (see ``worker_enabled``)."""
        if self.worker_enabled is None:
            return self.environment != "test"
        return self.worker_enabled

    def service_credentials(self) -> ServiceCredentials:
        """The proxy's own identity towards the catalog (configured, or the development key)."""
        if self.service_key:
            return ServiceCredentials(ServiceKey.from_config(self.service_name, self.service_key))
        return ServiceCredentials(dev_service_key(self.service_keys_dir, self.service_name))


@lru_cache
def get_settings() -> ProxySettings:
    return ProxySettings()
