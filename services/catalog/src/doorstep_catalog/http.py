"""This app's HTTP conventions in one place: the problem responses routes document, ETags,
If-Match (the catalog's own wording: "the item has changed", If-Match required), and the
cached JSON responses of catalogue reads."""

from __future__ import annotations

from typing import Any

from fastapi import Response

from doorstep_shared.http import etag_of
from doorstep_shared.http.errors import PreconditionFailed, PreconditionRequired

from .items.models import Category, Item
from .items.schemas import ItemRead

# Catalogue reads may be cached, but revalidated every time (ETag → 304 on poor networks).
CACHE = "private, no-cache"

PROBLEM: dict[str, Any] = {"content": {"application/problem+json": {}}}
# What every catalog route can answer (on each router).
ROUTER_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"description": "Missing or invalid bearer token", **PROBLEM},
    403: {"description": "Missing permission", **PROBLEM},
}
R404: dict[int | str, dict[str, Any]] = {404: {"description": "Not found", **PROBLEM}}
R_WRITE: dict[int | str, dict[str, Any]] = {
    404: {"description": "Not found", **PROBLEM},
    409: {"description": "Conflict (duplicate code, invalid status change)", **PROBLEM},
    412: {"description": "Stale If-Match", **PROBLEM},
    422: {"description": "Invalid input or rule", **PROBLEM},
    428: {"description": "If-Match missing", **PROBLEM},
}


def item_etag(item: Item | ItemRead) -> str:
    return etag_of("item", item.code, item.version)


def category_etag(category: Category) -> str:
    return etag_of("category", category.code, category.version)


def export_etag(revision_key: tuple[str, int]) -> str:
    """The export document's ETag: it changes exactly when the catalogue's revision does."""
    return etag_of("export", *revision_key)


def check_if_match(header: str | None, current: str, *, required: bool = True) -> None:
    """428 without an If-Match (when ``required``), 412 when it names another version."""
    if header is None:
        if required:
            raise PreconditionRequired("This update needs an If-Match header with the item's ETag.")
        return
    tags = [t.strip().removeprefix("W/") for t in header.split(",") if t.strip()]
    if "*" not in tags and current not in tags:
        raise PreconditionFailed(
            "The item has changed since you read it; reload and retry.",
            code="stale_etag",
            current_etag=current,
        )


def json_response(body: bytes, etag: str) -> Response:
    """An already-serialised catalogue read, with its ETag and the cache policy."""
    return Response(content=body, media_type="application/json", headers={"ETag": etag, "Cache-Control": CACHE})
