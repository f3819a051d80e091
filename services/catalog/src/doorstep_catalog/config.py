"""Catalog settings (env prefix ``DOORSTEP_CATALOG_``)."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from doorstep_shared.config import AuditSettings, DirectorySettings
from doorstep_shared.search import FUZZY_PAIRS


class CatalogSettings(AuditSettings, DirectorySettings):
    model_config = SettingsConfigDict(env_prefix="DOORSTEP_CATALOG_", extra="ignore")

    port: int = 8001
    service_name: str = "catalog"
    revision_check_ms: int = Field(
        default=250,
        ge=0,
        description="Hot catalogue reads re-read the revision at most this often (ms; 0: every request); "
        "a replica sees its own writes at once, another replica's within this time",
    )
    search_fuzzy_pinyin: tuple[str, ...] = Field(
        default=FUZZY_PAIRS,
        description="Pinyin pairs search treats as one sound (of n-l zh-z ch-c sh-s an-ang en-eng in-ing); [] for none",
    )
    public_base_url: str = Field(
        default="",
        max_length=200,
        pattern=r"^(https?://[^/?#\s]+(/[^?#\s]*)?)?$",
        description="Where residents reach the API (e.g. https://doorstep.example.gov.cn): the public sheet's QR code "
        "points there; empty: the address the request came in on",
    )
    service_window_name: str = Field(
        default="", max_length=100, description="The service window a public sheet names (e.g. 社区综合服务窗口)"
    )
    service_window_address: str = Field(default="", max_length=200, description="The service window's address")
    service_window_phone: str = Field(default="", max_length=100, description="The service window's phone")
    service_window_hours: str = Field(
        default="", max_length=200, description="The service window's opening hours, as residents should read them"
    )


@lru_cache
def get_settings() -> CatalogSettings:
    return CatalogSettings()
