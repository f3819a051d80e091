"""Stations settings (env prefix ``DOORSTEP_STATIONS_``)."""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

from pydantic import Field, model_validator
from pydantic_settings import SettingsConfigDict

from doorstep_shared.config import ServiceSettings
from doorstep_shared.pii import PiiCipher
from doorstep_shared.webhooks import WebhookConfig


class StationsSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="DOORSTEP_STATIONS_", extra="ignore")

    port: int = 8003
    service_name: str = "stations"

    pii_keys: str = Field(
        "",
        description="PII encryption keys `kid1:base64key,kid2:base64key` (the first encrypts); "
        "outside production empty means development keys under var/keys",
    )
    pii_hash_key: str = Field("", description="Base64 HMAC key for phone lookup hashes")

    worker_enabled: bool = Field(True, description="Run the outbox/notification worker in-process")
    worker_interval: float = Field(5.0, ge=0.05, le=3600, description="Seconds between worker passes")
    claim_max_attempts: int = Field(5, ge=1, le=100, description="Wrong claim codes before a drop-off ticket locks")
    cancel_cutoff_hours: float = Field(
        2.0,
        ge=0,
        le=720,
        description="Default: bookings can be cancelled until this long before start",
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
    def _pii_keys_in_production(self) -> StationsSettings:
        if self.is_production and not (self.pii_keys and self.pii_hash_key):
            raise ValueError("DOORSTEP_STATIONS_PII_KEYS and DOORSTEP_STATIONS_PII_HASH_KEY must be set in production")
        return self

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
        if self.pii_keys and self.pii_hash_key:
            return PiiCipher.from_config(self.pii_keys, self.pii_hash_key)
        return PiiCipher.dev(self.var_dir / "keys")


@lru_cache
def get_settings() -> StationsSettings:
    return StationsSettings()
