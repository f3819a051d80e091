"""Helpers for the case tests: headers for workers of other grids, cases and visits via the API."""

from __future__ import annotations

from typing import Any

import httpx

from ...support import Tokens
from ..helpers import BASE, admin, create, enrol

__all__ = ["BASE", "admin", "grid_worker", "new_case", "new_resident", "profile"]


def grid_worker(tokens: Tokens, grid: int = 7, community: str = "chaoyang") -> dict[str, str]:
    return tokens.headers(
        "social_worker", community=community, grid=f"{community}-g{grid}", subject=f"{community}.g{grid}.worker"
    )


async def profile(
    client: httpx.AsyncClient, tokens: Tokens, username: str, grid: str, community: str = "chaoyang"
) -> None:
    await enrol(client, username, grid, community)


async def new_resident(client: httpx.AsyncClient, headers: dict[str, str], **overrides: Any) -> dict[str, Any]:
    return await create(client, headers, **overrides)


async def new_case(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    resident_id: str,
    item_code: str = "elderly-allowance",
    channel: str = "window",
    **extra: Any,
) -> dict[str, Any]:
    body = {"resident_id": resident_id, "item_code": item_code, "channel": channel, **extra}
    resp = await client.post(f"{BASE}/cases", json=body, headers=headers)
    assert resp.status_code == 201, resp.text
    data: dict[str, Any] = resp.json()
    return data
