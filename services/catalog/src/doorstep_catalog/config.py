"""Catalog settings (env prefix ``DOORSTEP_CATALOG_``)."""

from __future__ import annotations

from functools import lru_cache

from pydantic_settings import SettingsConfigDict

from doorstep_shared.config import AuditSettings


class CatalogSettings(AuditSettings):
    model_config = SettingsConfigDict(env_prefix="DOORSTEP_CATALOG_", extra="ignore")

    port: int = 8001
    service_name: str = "catalog"


@lru_cache
def get_settings() -> CatalogSettings:
    return CatalogSettings()
