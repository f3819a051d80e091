"""Proxy settings (env prefix ``DOORSTEP_PROXY_``)."""

from __future__ import annotations

from functools import lru_cache

from pydantic import AliasChoices, Field, model_validator
from pydantic_settings import SettingsConfigDict

from doorstep_shared.config import ServiceSettings
from doorstep_shared.pii import PiiCipher


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
    import_max_rows: int = Field(20_000, ge=1, description="Most data rows accepted in one survey sheet")
    catalog_url: str = Field("http://127.0.0.1:8001", description="Catalog service base URL")
    token_url: str = Field(
        "http://127.0.0.1:8000/api/v1/auth/token", description="Gateway token endpoint for the proxy's own machine token"
    )
    service_client_id: str = Field("svc.proxy", description="The proxy's machine client id (scope catalog:read)")
    service_client_secret: str = Field(
        "doorstep-demo",
        repr=False,
        validation_alias=AliasChoices("DOORSTEP_PROXY_SERVICE_CLIENT_SECRET", "DOORSTEP_DEMO_PASSWORD"),
        description="The proxy's machine client secret (development default: the demo password)",
    )
    catalog_cache_seconds: float = Field(30.0, ge=0, description="How long a catalogue copy is used before asking again")

    @model_validator(mode="after")
    def _pii_keys_in_production(self) -> ProxySettings:
        if self.is_production and not (self.pii_keys and self.pii_hash_key):
            raise ValueError("DOORSTEP_PROXY_PII_KEYS and DOORSTEP_PROXY_PII_HASH_KEY must be set in production")
        if self.is_production and self.service_client_secret == "doorstep-demo":  # noqa: S105
            raise ValueError("DOORSTEP_PROXY_SERVICE_CLIENT_SECRET must be set in production (not the demo password)")
        return self

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
