"""The API documentation pages (Swagger UI, ReDoc) with every asset served by the app itself.

County intranets reach no CDN and no Google Fonts, and admins use these pages as their console:
the scripts, the stylesheet and the icon come from the pinned ``fastapi-offline`` package and are
served under ``/docs-assets/<its version>/`` with a year's cache (a new version is a new path).
ReDoc draws in the system's fonts; Swagger UI's online validator badge is off (it would ask
validator.swagger.io about every document). No page names another host, and each carries a
Content-Security-Policy that lets the browser load and call nothing but the page's own origin.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from html import escape
from importlib import metadata, resources
from typing import Any

from fastapi.openapi.docs import get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from starlette.responses import Response
from starlette.routing import Mount

ASSETS_VERSION = metadata.version("fastapi-offline")
ASSETS_PATH = f"/docs-assets/{ASSETS_VERSION}"
SWAGGER_JS = f"{ASSETS_PATH}/swagger-ui-bundle.js"
SWAGGER_CSS = f"{ASSETS_PATH}/swagger-ui.css"
REDOC_JS = f"{ASSETS_PATH}/redoc.standalone.js"
FAVICON = f"{ASSETS_PATH}/favicon.png"
ASSETS_CACHE_CONTROL = "public, max-age=31536000, immutable"

SYSTEM_FONTS = (
    'system-ui, -apple-system, "Segoe UI", "PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", '
    "Roboto, Helvetica, Arial, sans-serif"
)
MONOSPACE_FONTS = 'ui-monospace, "SFMono-Regular", Menlo, Consolas, "DejaVu Sans Mono", monospace'
REDOC_OPTIONS: dict[str, Any] = {
    "theme": {
        "typography": {
            "fontFamily": SYSTEM_FONTS,
            "headings": {"fontFamily": SYSTEM_FONTS},
            "code": {"fontFamily": MONOSPACE_FONTS},
        }
    },
}
SWAGGER_DEFAULTS: dict[str, Any] = {"validatorUrl": None, "persistAuthorization": True}


class _Assets(StaticFiles):
    """The package's files, cached for a year: the version in the path changes when they do."""

    def file_response(self, *args: Any, **kwargs: Any) -> Response:
        response = super().file_response(*args, **kwargs)
        response.headers["Cache-Control"] = ASSETS_CACHE_CONTROL
        return response


def assets_mount() -> Mount:
    """``/docs-assets/<version>/``: Swagger UI's and ReDoc's files (public, like the pages)."""
    directory = resources.files("fastapi_offline").joinpath("static")
    return Mount(ASSETS_PATH, app=_Assets(directory=str(directory)), name="docs-assets")


def swagger_page(openapi_url: str, title: str, *, oauth2_redirect_url: str = "/docs/oauth2-redirect") -> HTMLResponse:
    """Swagger UI on the app's own files."""
    page = get_swagger_ui_html(
        openapi_url=openapi_url,
        title=title,
        swagger_js_url=SWAGGER_JS,
        swagger_css_url=SWAGGER_CSS,
        swagger_favicon_url=FAVICON,
        oauth2_redirect_url=oauth2_redirect_url,
        swagger_ui_parameters=SWAGGER_DEFAULTS,
    )
    return _only_this_origin(bytes(page.body).decode())


def oauth2_redirect_page() -> HTMLResponse:
    """Where Swagger UI's OAuth2 pop-up lands (inline script only)."""
    return _only_this_origin(bytes(get_swagger_ui_oauth2_redirect_html().body).decode())


def redoc_page(openapi_url: str, title: str) -> HTMLResponse:
    """ReDoc on the app's own files, in the system's fonts (FastAPI's page asks Google for them)."""
    spec = _script_json(openapi_url)
    options = _script_json(REDOC_OPTIONS)
    page = f"""<!doctype html>
<html><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)}</title>
<link rel="icon" href="{FAVICON}">
<style>body{{margin:0;padding:0}}</style>
</head><body>
<div id="redoc"></div>
<script src="{REDOC_JS}"></script>
<script>Redoc.init({spec}, {options}, document.getElementById("redoc"));</script>
</body></html>"""
    return _only_this_origin(page)


def _only_this_origin(page: str) -> HTMLResponse:
    """The page with a Content-Security-Policy that lets it load and call nothing but this
    origin (and its own inline scripts, by hash). It is what keeps ReDoc's sidebar credit from
    fetching its logo from cdn.redoc.ly (the image fails quietly and is left out)."""
    scripts = " ".join(_hash(script) for script in _INLINE_SCRIPT.findall(page))
    policy = (
        f"default-src 'none'; script-src 'self' {scripts}; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; worker-src 'self' blob:; "
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    )
    return HTMLResponse(page, headers={"Content-Security-Policy": policy})


_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)


def _hash(script: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(script.encode()).digest()).decode() + "'"


def _script_json(value: Any) -> str:
    """JSON safe inside a ``<script>`` element (no ``</script>``, no HTML comment opener)."""
    return json.dumps(value, ensure_ascii=False).replace("<", "\\u003c").replace(">", "\\u003e")


__all__ = [
    "ASSETS_CACHE_CONTROL",
    "ASSETS_PATH",
    "assets_mount",
    "oauth2_redirect_page",
    "redoc_page",
    "swagger_page",
]
