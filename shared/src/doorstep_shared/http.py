"""HTTP conditionals: strong ETags, If-None-Match → 304, If-Match → 412."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from fastapi import Request, Response

from .errors import PreconditionFailed, PreconditionRequired


def etag_of(*parts: Any) -> str:
    """A strong ETag from a resource's identity and version (or its canonical content)."""
    raw = json.dumps(parts, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str).encode()
    return '"' + hashlib.sha256(raw).hexdigest()[:32] + '"'


def _tags(header: str | None) -> list[str]:
    if not header:
        return []
    return [t.strip().removeprefix("W/") for t in header.split(",") if t.strip()]


def not_modified(request: Request, etag: str) -> bool:
    tags = _tags(request.headers.get("if-none-match"))
    return "*" in tags or etag in tags


def not_modified_response(etag: str, cache_control: str = "private, no-cache") -> Response:
    return Response(status_code=304, headers={"ETag": etag, "Cache-Control": cache_control})


def check_if_match(request: Request, current_etag: str, *, required: bool = False, current: Any = None) -> None:
    """412 when ``If-Match`` names another version (``current`` goes into the problem body)."""
    header = request.headers.get("if-match")
    if header is None:
        if required:
            raise PreconditionRequired("This update needs an If-Match header with the resource's ETag.")
        return
    tags = _tags(header)
    if "*" in tags or current_etag in tags:
        return
    extra: dict[str, Any] = {"current_etag": current_etag}
    if current is not None:
        extra["current"] = current
    raise PreconditionFailed(
        "The resource has changed since you read it; reload and retry.", code="stale_etag", **extra
    )
