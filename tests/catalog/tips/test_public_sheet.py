"""The sheet of a published item opens without a token (issue #21 part 6): QR code of its own
address, the service window, local dates, large print, a strict CSP; drafts stay hidden."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import re

import httpx
import pytest
import segno
from fastapi import FastAPI

from doorstep_catalog.tips.sheet import local_date

from ..helpers import create_item

ITEMS = "/api/v1/catalog/items"


def qr_modules(html: str) -> set[tuple[int, int]]:
    """The dark modules of the page's QR code, read back from its SVG path (segno draws each
    row as horizontal runs: ``M x y`` / ``m dx dy`` moves, ``h n`` dark runs)."""
    svg = re.search(r'<div class="qr">(<svg.*?</svg>)', html, re.S)
    assert svg, "no inline SVG QR code on the page"
    path = re.search(r' d="([^"]+)"', svg.group(1))
    assert path
    x = y = 0.0
    dark: set[tuple[int, int]] = set()
    for op, a, b in re.findall(r"([MmHh])\s*(-?[\d.]+)(?:[ ,](-?[\d.]+))?", path.group(1)):
        if op == "M":
            x, y = float(a), float(b)
        elif op == "m":
            x, y = x + float(a), y + float(b)
        else:
            n = float(a)
            dark.update((int(y - 0.5), int(x + i)) for i in range(int(n)))
            x += n
    return dark


def modules_of(url: str) -> set[tuple[int, int]]:
    """What the QR code of exactly ``url`` looks like (segno's default 4-module border)."""
    qr = segno.make(url, error="m")
    return {(r + 4, c + 4) for r, row in enumerate(qr.matrix) for c, v in enumerate(row) if v}


async def test_a_published_sheet_opens_without_a_token(seeded: httpx.AsyncClient) -> None:
    resp = await seeded.get(f"{ITEMS}/elderly-allowance/sheet")
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("text/html")
    assert "<h1>高龄补贴</h1>" in resp.text and "所需材料" in resp.text
    assert resp.headers["cache-control"] == "public, max-age=300"
    for external in ("<script", "<link", " src=", "@import", "url("):
        assert external not in resp.text


async def test_an_unchanged_sheet_revalidates_with_304(seeded: httpx.AsyncClient, admin: dict[str, str]) -> None:
    first = await seeded.get(f"{ITEMS}/dibao/sheet")
    etag = first.headers["etag"]
    again = await seeded.get(f"{ITEMS}/dibao/sheet", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["cache-control"] == "public, max-age=300"
    large = await seeded.get(f"{ITEMS}/dibao/sheet", params={"print": "large"}, headers={"If-None-Match": etag})
    assert large.status_code == 200
    item_etag = (await seeded.get(f"{ITEMS}/dibao", headers=admin)).headers["etag"]
    edited = await seeded.patch(
        f"{ITEMS}/dibao", json={"reason": "改口径", "summary": "新的说明"}, headers={**admin, "If-Match": item_etag}
    )
    assert edited.status_code == 200, edited.text
    changed = await seeded.get(f"{ITEMS}/dibao/sheet", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and "新的说明" in changed.text


async def test_the_qr_code_encodes_the_pages_own_address(seeded: httpx.AsyncClient) -> None:
    own = "http://testserver/api/v1/catalog/items/elderly-allowance/sheet"
    html = (await seeded.get(f"{ITEMS}/elderly-allowance/sheet")).text
    assert qr_modules(html) == modules_of(own)
    assert qr_modules(html) != modules_of(own + "x")
    large = (await seeded.get(f"{ITEMS}/elderly-allowance/sheet", params={"print": "large"})).text
    assert qr_modules(large) == modules_of(own + "?print=large")


async def test_the_qr_code_uses_the_configured_public_address(
    seeded: httpx.AsyncClient, catalog_app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(catalog_app.state.settings, "public_base_url", "https://doorstep.example.org/")
    html = (await seeded.get(f"{ITEMS}/dibao/sheet")).text
    own = "https://doorstep.example.org/api/v1/catalog/items/dibao/sheet"
    assert qr_modules(html) == modules_of(own)
    assert own in html


async def test_drafts_and_unknown_items_are_404_without_a_token_but_staff_still_see_drafts(
    seeded: httpx.AsyncClient, admin: dict[str, str], worker: dict[str, str]
) -> None:
    await create_item(seeded, admin, "secret-draft", name="未发布草稿事项", status="draft")
    anonymous = await seeded.get(f"{ITEMS}/secret-draft/sheet")
    unknown = await seeded.get(f"{ITEMS}/no-such-item/sheet")
    assert anonymous.status_code == unknown.status_code == 404
    assert "未发布草稿事项" not in anonymous.text
    assert anonymous.json()["detail"].replace("secret-draft", "X") == unknown.json()["detail"].replace(
        "no-such-item", "X"
    )
    staff = await seeded.get(f"{ITEMS}/secret-draft/sheet", headers=admin)
    assert staff.status_code == 200 and "草稿" in staff.text
    assert staff.headers["cache-control"] == "private, no-cache"
    assert (await seeded.get(f"{ITEMS}/secret-draft/sheet", headers=worker)).status_code == 404


async def test_a_retired_item_is_404_without_a_token(seeded: httpx.AsyncClient, admin: dict[str, str]) -> None:
    assert (await seeded.get(f"{ITEMS}/dibao/sheet")).status_code == 200
    etag = (await seeded.get(f"{ITEMS}/dibao", headers=admin)).headers["etag"]
    retired = await seeded.patch(
        f"{ITEMS}/dibao", json={"reason": "停办", "status": "retired"}, headers={**admin, "If-Match": etag}
    )
    assert retired.status_code == 200, retired.text
    assert (await seeded.get(f"{ITEMS}/dibao/sheet")).status_code == 404
    assert "已停办" in (await seeded.get(f"{ITEMS}/dibao/sheet", headers=admin)).text


async def test_a_bad_token_is_still_401_not_the_public_page(seeded: httpx.AsyncClient) -> None:
    resp = await seeded.get(f"{ITEMS}/dibao/sheet", headers={"Authorization": "Bearer not.a.jwt"})
    assert resp.status_code == 401


async def test_staff_tips_stay_off_the_public_sheet(seeded: httpx.AsyncClient, worker: dict[str, str]) -> None:
    tip = "周三下午窗口人少，内部提醒"
    added = await seeded.post(f"{ITEMS}/dibao/tips", json={"body": tip}, headers=worker)
    assert added.status_code == 201, added.text
    assert tip in (await seeded.get(f"{ITEMS}/dibao/sheet", headers=worker)).text
    assert tip not in (await seeded.get(f"{ITEMS}/dibao/sheet")).text


async def test_large_print_is_the_same_content_in_bigger_type(seeded: httpx.AsyncClient) -> None:
    normal = await seeded.get(f"{ITEMS}/elderly-allowance/sheet")
    large = await seeded.get(f"{ITEMS}/elderly-allowance/sheet", params={"print": "large"})
    assert large.status_code == 200

    def body_text(html: str) -> str:
        return re.sub(r"<[^>]+>", "", html.split("</style>", 1)[1].split('<div class="qr">')[0])

    assert body_text(large.text) == body_text(normal.text)
    assert "font-size: 16pt" in large.text and "font-size: 16pt" not in normal.text
    assert "@media print" in large.text
    # Each variant's policy allows exactly its own stylesheet.
    assert large.headers["content-security-policy"] != normal.headers["content-security-policy"]


async def test_an_unknown_print_variant_is_422_naming_print(seeded: httpx.AsyncClient) -> None:
    resp = await seeded.get(f"{ITEMS}/elderly-allowance/sheet", params={"print": "huge"})
    assert resp.status_code == 422
    assert resp.json()["errors"][0]["field"] == "query.print"


async def test_the_page_has_a_strict_content_security_policy(seeded: httpx.AsyncClient) -> None:
    resp = await seeded.get(f"{ITEMS}/elderly-allowance/sheet")
    policy = resp.headers["content-security-policy"]
    assert "default-src 'none'" in policy and "frame-ancestors 'none'" in policy
    assert "unsafe-inline" not in policy and "script-src" not in policy
    style = resp.text.split("<style>", 1)[1].split("</style>", 1)[0]
    digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
    assert f"style-src 'sha256-{digest}'" in policy
    assert resp.headers["x-content-type-options"] == "nosniff"


def test_dates_read_in_shanghai_time() -> None:
    # 17:30 UTC on 2 December is already 3 December in Shanghai.
    assert local_date(dt.datetime(2026, 12, 2, 17, 30, tzinfo=dt.UTC)) == "2026年12月3日"


async def test_the_sheet_shows_the_updated_date_in_local_time(seeded: httpx.AsyncClient, admin: dict[str, str]) -> None:
    item = (await seeded.get(f"{ITEMS}/elderly-allowance", headers=admin)).json()
    updated = dt.datetime.fromisoformat(item["updated_at"])
    html = (await seeded.get(f"{ITEMS}/elderly-allowance/sheet")).text
    assert f"更新于 {local_date(updated)}" in html
    assert re.search(r"更新于 \d{4}年\d{1,2}月\d{1,2}日", html)


async def test_the_configured_service_window_is_on_the_sheet(
    seeded: httpx.AsyncClient, catalog_app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert "办理窗口" not in (await seeded.get(f"{ITEMS}/dibao/sheet")).text  # nothing configured
    settings = catalog_app.state.settings
    monkeypatch.setattr(settings, "service_window_name", "社区综合服务窗口")
    monkeypatch.setattr(settings, "service_window_address", "示例路1号<b>")
    monkeypatch.setattr(settings, "service_window_phone", "0000-1234567")
    monkeypatch.setattr(settings, "service_window_hours", "周一至周五 8:30–12:00")
    html = (await seeded.get(f"{ITEMS}/dibao/sheet")).text
    block = html.split("<h2>办理窗口</h2>", 1)[1].split("</div>", 1)[0]
    for text in ("社区综合服务窗口", "示例路1号&lt;b&gt;", "0000-1234567", "周一至周五 8:30–12:00"):
        assert text in block
