"""The index follows catalogue changes item by item: an edit re-indexes that item only."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

ITEMS = "/api/v1/catalog/items"


async def test_an_edit_reindexes_only_the_item_edited(
    seeded: httpx.AsyncClient, catalog_app: FastAPI, worker: dict[str, str], admin: dict[str, str]
) -> None:
    index = catalog_app.state.catalog_index
    assert (await seeded.get(ITEMS, params={"q": "尊老金"}, headers=worker)).json()["items"][0]["code"] == (
        "elderly-allowance"
    )
    before = index.reindexed
    item = await seeded.get(f"{ITEMS}/centenarian-allowance", headers=admin)
    resp = await seeded.patch(
        f"{ITEMS}/centenarian-allowance",
        json={"reason": "别名", "aliases": ["百岁补贴", "长寿补贴", "寿星金"]},
        headers={**admin, "If-Match": item.headers["etag"]},
    )
    assert resp.status_code == 200, resp.text
    found = (await seeded.get(ITEMS, params={"q": "寿星金"}, headers=worker)).json()["items"]
    assert found[0]["code"] == "centenarian-allowance"
    assert index.reindexed == before + 1
