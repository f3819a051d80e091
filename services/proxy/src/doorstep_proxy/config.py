"""Proxy settings (env prefix ``DOORSTEP_PROXY_``)."""

from __future__ import annotations

from functools import lru_cache

from pydantic_settings import SettingsConfigDict

from doorstep_shared.config import ServiceSettings


class ProxySettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="DOORSTEP_PROXY_", extra="ignore")

    port: int = 8002
    service_name: str = "proxy"


@lru_cache
def get_settings() -> ProxySettings:
    return ProxySettings()
