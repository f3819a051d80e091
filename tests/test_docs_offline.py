"""Every app's /docs and /redoc load their scripts, styles and icon from the app itself (issue 21):
no URL in the pages names another host, and each asset they name is served, cached for a year.

The real browser with every other host blocked is tests/e2e/test_docs_browser.py.
"""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest

from doorstep_shared.http.docs_pages import ASSETS_CACHE_CONTROL, ASSETS_PATH

from .test_route_permissions import build

# src="…", href="…" and url: '…' / spec URLs written into the pages' scripts.
REFERENCE = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']""")
ANY_HOST = re.compile(r"""(?:https?:)?//[a-z0-9.-]+""", re.IGNORECASE)


@pytest.mark.parametrize("name", ["gateway", "catalog", "proxy", "stations"])
async def test_docs_pages_name_no_other_host_and_their_assets_are_served(name: str, tmp_path: Path) -> None:
    app = build(name, tmp_path)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        references: set[str] = set()
        for page in ("/docs", "/redoc"):
            resp = await client.get(page)
            assert resp.status_code == 200, page
            assert not ANY_HOST.findall(resp.text), f"{page} names another host: {ANY_HOST.findall(resp.text)}"
            assert "fonts.googleapis" not in resp.text
            # The browser itself refuses anything from elsewhere (ReDoc's credit logo, say).
            policy = resp.headers["content-security-policy"]
            assert (
                "default-src 'none'" in policy and "connect-src 'self'" in policy and "img-src 'self' data:" in policy
            )
            references |= set(REFERENCE.findall(resp.text))
        assets = {r for r in references if r.startswith(ASSETS_PATH + "/")}
        assert {a.rsplit("/", 1)[1] for a in assets} == {
            "swagger-ui-bundle.js",
            "swagger-ui.css",
            "redoc.standalone.js",
            "favicon.png",
        }
        for asset in sorted(assets):
            resp = await client.get(asset)
            assert resp.status_code == 200, asset
            assert resp.headers["cache-control"] == ASSETS_CACHE_CONTROL
            assert len(resp.content) > 1000
        assert (await client.get(f"{ASSETS_PATH}/../../pyproject.toml")).status_code == 404
        assert (await client.get("/docs-assets/0.0.0/swagger-ui.css")).status_code == 404
