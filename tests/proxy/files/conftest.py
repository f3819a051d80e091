"""Fixtures for the material-file tests: compounds and a catalogue whose ID card wants a photo."""

from __future__ import annotations

import httpx
import pytest

from ..cases.conftest import MATERIALS, catalogue, item
from ..helpers import app_of, with_compounds

PHOTO_ITEM = "photo-allowance"


@pytest.fixture
async def files(proxy: httpx.AsyncClient) -> httpx.AsyncClient:
    """The proxy client with compounds seeded and a catalogue where ``photo-allowance``'s first
    material (the ID card) says ``evidence: photo``."""
    await with_compounds(proxy)
    materials = [{**MATERIALS[0], "evidence": "photo"}, *MATERIALS[1:]]
    app_of(proxy).state.catalog.prime(catalogue(**{PHOTO_ITEM: item(PHOTO_ITEM, "要照片的补贴", materials=materials)}))
    return proxy
