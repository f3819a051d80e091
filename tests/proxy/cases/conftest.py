"""Fixtures for the case tests: compounds, a primed catalogue, residents and worker profiles."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from doorstep_proxy.catalog_client import CatalogItem, CatalogSnapshot

from ..helpers import app_of, with_compounds

MATERIALS = [
    {"name": "居民身份证复印件", "form": "copy"},
    {"name": "户口簿复印件", "form": "copy"},
    {"name": "本人银行卡（社保卡）复印件", "form": "copy"},
]


def item(code: str, name: str, **overrides: Any) -> CatalogItem:
    data: dict[str, Any] = {
        "code": code,
        "name": name,
        "category": "elderly-livelihood",
        "status": "published",
        "materials": MATERIALS,
        "steps": [{"title": "受理"}, {"title": "审核"}],
        "statutory_days": 20,
        "promised_days": 15,
        "department": "和县民政局",
        "channels": ["window", "doorstep"],
        "proxy_eligible": True,
    }
    data.update(overrides)
    return CatalogItem.model_validate(data)


def catalogue(revision: int = 1, **changed: CatalogItem) -> CatalogSnapshot:
    items = {
        "elderly-allowance": item("elderly-allowance", "高龄补贴"),
        "severe-disability-care-subsidy": item(
            "severe-disability-care-subsidy", "重度残疾人护理补贴", category="disability", promised_days=20
        ),
        "disability-rehabilitation": item(
            "disability-rehabilitation", "残疾人康复救助", proxy_eligible=False, channels=["window"]
        ),
        "old-subsidy": item("old-subsidy", "已停办的补贴", status="retired"),
    }
    items.update(changed)
    return CatalogSnapshot(revision=revision, items=items)


@pytest.fixture
async def cases(proxy: httpx.AsyncClient) -> AsyncIterator[httpx.AsyncClient]:
    """The proxy client with compounds seeded and the test catalogue installed."""
    await with_compounds(proxy)
    app_of(proxy).state.catalog.prime(catalogue())
    return proxy
