from __future__ import annotations

import httpx

from .helpers import app_of


async def test_app_keeps_the_cipher_in_state(proxy: httpx.AsyncClient) -> None:
    assert app_of(proxy).state.pii.active_kid
