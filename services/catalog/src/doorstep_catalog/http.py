"""The catalog's ETags and the cached JSON responses of catalogue reads.

Problem responses, If-None-Match and If-Match are ``doorstep_shared.http``'s; the catalog's
writes require If-Match (``check_if_match(..., required=True, what="item")``)."""

from __future__ import annotations

from fastapi import Request, Response

from doorstep_shared.http import etag_of
from doorstep_shared.http.compression import cached_body_response

from .items.models import Category, Item
from .items.schemas import ItemRead

# Catalogue reads may be cached, but revalidated every time (ETag → 304 on poor networks).
CACHE = "private, no-cache"


def item_etag(item: Item | ItemRead) -> str:
    # The county too: two counties' items of the same code and version are different resources.
    return etag_of("item", item.county, item.code, item.version)


def category_etag(category: Category) -> str:
    return etag_of("category", category.code, category.version)


def export_etag(revision_key: tuple[str, int], county: str | None) -> str:
    """The export document's ETag (one county's, or every county's: ``None``): it changes
    exactly when the catalogue's revision does."""
    return etag_of("export", *revision_key, county or "*")


def json_response(request: Request, body: bytes, etag: str) -> Response:
    """A catalogue read serialised once per revision (the snapshot's), with its ETag and the
    cache policy, and compressed once per codec (``cached_body_response``)."""
    headers = {"ETag": etag, "Cache-Control": CACHE}
    return cached_body_response(request, body, media_type="application/json", headers=headers)
