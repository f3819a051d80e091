"""A material may say what the proxy must hold before it is ticked: ``evidence: photo``
(issue 22, part 1); optional, JSON inside the item, no migration."""

from __future__ import annotations

import httpx

from ..helpers import create_item, item_body

ITEMS = "/api/v1/catalog/items"


async def test_a_material_that_needs_a_photo_says_so_and_others_say_nothing(
    seeded: httpx.AsyncClient, admin: dict[str, str], worker: dict[str, str]
) -> None:
    materials = [
        {"name": "居民身份证", "form": "original", "evidence": "photo"},
        {"name": "户口簿复印件", "form": "copy"},
    ]
    await create_item(seeded, admin, "photo-item", materials=materials)
    read = (await seeded.get(f"{ITEMS}/photo-item", headers=worker)).json()
    assert [m.get("evidence") for m in read["materials"]] == ["photo", None]


async def test_evidence_other_than_photo_is_422(seeded: httpx.AsyncClient, admin: dict[str, str]) -> None:
    body = item_body("video-item", materials=[{"name": "居民身份证", "evidence": "video"}])
    resp = await seeded.post(ITEMS, json=body, headers=admin)
    assert resp.status_code == 422 and "evidence" in resp.text
