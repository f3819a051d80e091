from __future__ import annotations

import httpx

from ...support import Tokens

ITEMS = "/api/v1/catalog/items"
EXPORT = "/api/v1/catalog/export"


async def test_item_reads_answer_304_to_a_matching_if_none_match(
    seeded: httpx.AsyncClient, worker: dict[str, str]
) -> None:
    first = await seeded.get(f"{ITEMS}/elderly-allowance", headers=worker)
    etag = first.headers["etag"]
    # Weak when the answer went out compressed (other bytes); If-None-Match compares weakly.
    assert etag.removeprefix("W/").startswith('"')
    again = await seeded.get(f"{ITEMS}/elderly-allowance", headers={**worker, "If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    other = await seeded.get(f"{ITEMS}/elderly-allowance", headers={**worker, "If-None-Match": '"x"'})
    assert other.status_code == 200


async def test_export_is_the_whole_published_catalogue_and_304_until_it_changes(
    seeded: httpx.AsyncClient, worker: dict[str, str], admin: dict[str, str]
) -> None:
    first = await seeded.get(EXPORT, headers=worker)
    assert first.status_code == 200
    body = first.json()
    assert len(body["items"]) == 68
    assert len(body["categories"]) == 5
    assert sum(1 for i in body["items"] if i["proxy_eligible"]) == 18
    assert b", " not in first.content[:200]  # compact separators
    etag = first.headers["etag"]
    cached = await seeded.get(EXPORT, headers={**worker, "If-None-Match": etag})
    assert cached.status_code == 304
    item_etag = (await seeded.get(f"{ITEMS}/dibao", headers=admin)).headers["etag"]
    await seeded.patch(
        f"{ITEMS}/dibao",
        json={"reason": "改", "contact": "新窗口"},
        headers={**admin, "If-Match": item_etag},
    )
    changed = await seeded.get(EXPORT, headers={**worker, "If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["etag"] != etag


async def test_a_machine_client_with_catalog_read_can_export(seeded: httpx.AsyncClient, tokens: Tokens) -> None:
    client = tokens.headers(None, kind="client", scopes=("catalog:read",))
    assert (await seeded.get(EXPORT, headers=client)).status_code == 200
    no_scope = tokens.headers(None, kind="client", scopes=("demands:write",))
    assert (await seeded.get(EXPORT, headers=no_scope)).status_code == 403


async def test_the_explainer_sheet_is_printable_escaped_html(
    seeded: httpx.AsyncClient, worker: dict[str, str], admin: dict[str, str]
) -> None:
    resp = await seeded.get(f"{ITEMS}/elderly-allowance/sheet", headers=worker)
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("text/html")
    html = resp.text
    for part in (
        "<h1>高龄补贴</h1>",
        "所需材料",
        "☐",
        "办理流程",
        "个工作日",
        "和县民政局",
        "@page",
    ):
        assert part in html
    etag = (await seeded.get(f"{ITEMS}/dibao", headers=admin)).headers["etag"]
    await seeded.patch(
        f"{ITEMS}/dibao",
        json={"reason": "测试转义", "conditions": "<script>alert(1)</script>"},
        headers={**admin, "If-Match": etag},
    )
    sheet = (await seeded.get(f"{ITEMS}/dibao/sheet", headers=worker)).text
    assert "<script>" not in sheet
    assert "&lt;script&gt;" in sheet
    assert (await seeded.get(f"{ITEMS}/nope/sheet", headers=worker)).status_code == 404
