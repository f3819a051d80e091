"""Proxy settings (env prefix ``DOORSTEP_PROXY_``)."""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from pathlib import Path

from pydantic import AliasChoices, Field, model_validator
from pydantic_settings import SettingsConfigDict

from doorstep_shared.config import ServiceSettings
from doorstep_shared.pii import PiiCipher
from doorstep_shared.webhooks import WebhookConfig


class ProxySettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="DOORSTEP_PROXY_", extra="ignore", populate_by_name=True)

    port: int = 8002
    service_name: str = "proxy"

    pii_keys: str | None = Field(
        None,
        repr=False,
        description="AES-GCM keys for personal data: `kid1:base64key,kid2:base64key` (first encrypts)",
    )
    pii_hash_key: str | None = Field(
        None, repr=False, description="Base64 HMAC key for the lookup hashes of personal data"
    )
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
    token_url: str = Field(
        "http://127.0.0.1:8000/api/v1/auth/token",
        description="Gateway token endpoint for the proxy's own machine token",
    )
    service_client_id: str = Field("svc.proxy", description="The proxy's machine client id (scope catalog:read)")
    service_client_secret: str = Field(
        "doorstep-demo",
        repr=False,
        validation_alias=AliasChoices("DOORSTEP_PROXY_SERVICE_CLIENT_SECRET", "DOORSTEP_DEMO_PASSWORD"),
        description="The proxy's machine client secret (development default: the demo password)",
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

    webhook_allow_private: bool | None = Field(
        None,
        description="Let webhooks go to private, loopback and link-local addresses "
        "(default: yes in development/test, no in production)",
    )
    webhook_timeout: float = Field(5.0, gt=0, le=60, description="Seconds one webhook POST may take")
    webhook_concurrency: int = Field(16, ge=1, le=256, description="Webhook POSTs in flight at once")
    webhook_retry_hours: float = Field(
        24.0, gt=0, le=24 * 7, description="Retry a failing webhook delivery this long, then dead-letter it"
    )
    webhook_interval: float = Field(2.0, ge=0.05, le=3600, description="Seconds between webhook dispatcher polls")

    @model_validator(mode="after")
    def _pii_keys_in_production(self) -> ProxySettings:
        if self.is_production and not (self.pii_keys and self.pii_hash_key):
            raise ValueError("DOORSTEP_PROXY_PII_KEYS and DOORSTEP_PROXY_PII_HASH_KEY must be set in production")
        if self.is_production and self.service_client_secret == "doorstep-demo":  # noqa: S105
            raise ValueError("DOORSTEP_PROXY_SERVICE_CLIENT_SECRET must be set in production (not the demo password)")
        return self

    @property
    def background_enabled(self) -> bool:
        """Whether the lifespan starts the background tasks (see ``worker_enabled``)."""
        if self.worker_enabled is None:
            return self.environment != "test"
        return self.worker_enabled

    def webhook_config(self) -> WebhookConfig:
        allow_private = self.webhook_allow_private
        return WebhookConfig(
            allow_private=(not self.is_production) if allow_private is None else allow_private,
            require_https=self.is_production,
            timeout=self.webhook_timeout,
            concurrency=self.webhook_concurrency,
            retry_window=dt.timedelta(hours=self.webhook_retry_hours),
            poll_interval=self.webhook_interval,
        )

    def pii_cipher(self) -> PiiCipher:
        """The configured cipher; development and test fall back to keys kept under var/keys."""
        if self.pii_keys and self.pii_hash_key:
            return PiiCipher.from_config(self.pii_keys, self.pii_hash_key)
        if self.is_production:  # unreachable through the validator; kept as a second lock
            raise RuntimeError("personal-data keys are required in production")
        return PiiCipher.dev(self.var_dir / "keys")


@lru_cache
def get_settings() -> ProxySettings:
    return ProxySettings()
