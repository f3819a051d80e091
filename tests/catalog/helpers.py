"""Small builders for catalog tests."""

from __future__ import annotations

from typing import Any

import httpx

from doorstep_catalog.demo.service import demo_county

# The demo handbook's county (the demo directory file's one county): what tokens without a
# county read in the single-county test deployment.
DEMO_COUNTY = demo_county()


def item_body(code: str = "test-item", **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "code": code,
        "name": "测试事项",
        "category": "elderly-livelihood",
        "summary": "用于测试的事项",
        "aliases": ["测试别名"],
        "materials": [{"name": "居民身份证复印件", "form": "copy", "count": 1}],
        "steps": [{"title": "提交材料"}],
        "status": "published",
    }
    body.update(overrides)
    return body


async def create_item(
    client: httpx.AsyncClient, headers: dict[str, str], code: str = "test-item", **overrides: Any
) -> httpx.Response:
    resp = await client.post("/api/v1/catalog/items", json=item_body(code, **overrides), headers=headers)
    assert resp.status_code == 201, resp.text
    return resp
