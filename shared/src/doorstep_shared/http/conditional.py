"""HTTP conditionals: strong ETags, If-None-Match → 304, If-Match → 412 (or 428 when required);
and, as a client, a document kept with its ETag and asked for again with If-None-Match.

One ``check_if_match`` for every app; a service layer can call it with the header's value::

    IfMatch  # the route's parameter: Annotated[str | None, Header(alias="If-Match", ...)]
    check_if_match(if_match, resident_etag(r), current_version=r.version)      # absent: last write wins
    check_if_match(if_match, item_etag(item), required=True, what="item")     # absent: 428
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, Generic, TypeVar

import httpx
from fastapi import Header, Request, Response

from .errors import PreconditionFailed, PreconditionRequired

IfMatch = Annotated[
    str | None,
    Header(alias="If-Match", max_length=200, description="The ETag you read; stale → 412"),
]


def etag_of(*parts: Any) -> str:
    """A strong ETag from a resource's identity and version (or its canonical content)."""
    raw = json.dumps(parts, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str).encode()
    return '"' + hashlib.sha256(raw).hexdigest()[:32] + '"'


def etag_list(header: str | None) -> list[str]:
    """The entity tags an If-Match / If-None-Match header names (weak ones compared as strong)."""
    if not header:
        return []
    return [t.strip().removeprefix("W/") for t in header.split(",") if t.strip()]


def not_modified(request: Request, etag: str) -> bool:
    tags = etag_list(request.headers.get("if-none-match"))
    return "*" in tags or etag in tags


def not_modified_response(etag: str, cache_control: str = "private, no-cache") -> Response:
    return Response(status_code=304, headers={"ETag": etag, "Cache-Control": cache_control})


def check_if_match(
    if_match: str | None,
    etag: str,
    *,
    required: bool = False,
    what: str = "resource",
    **current: Any,
) -> None:
    """Let a write through only if ``If-Match`` names ``etag`` (or ``*``).

    - Another version: 412 ``stale_etag``; the problem body carries ``current_etag`` and each of
      ``current`` (e.g. ``current_version=3``) so a client can reload and retry.
    - No header: the write goes on (last write wins), or 428 when ``required``.
    ``what`` names the resource in the messages ("The item has changed …").

    ``if_match`` is the header's value.
    """
    if if_match is None:
        if required:
            raise PreconditionRequired(f"This update needs an If-Match header with the {what}'s ETag.")
        return
    tags = etag_list(if_match)
    if "*" in tags or etag in tags:
        return
    raise PreconditionFailed(
        f"The {what} has changed since you read it; reload and retry.",
        code="stale_etag",
        current_etag=etag,
        **current,
    )


T = TypeVar("T")


@dataclass(frozen=True)
class Copy(Generic[T]):
    """A document read from another service (parsed), with the ETag it came with."""

    value: T
    etag: str | None


def if_none_match(copy: Copy[Any] | None) -> dict[str, str]:
    """The headers that ask for the document only if it changed since ``copy``."""
    return {"If-None-Match": copy.etag} if copy is not None and copy.etag else {}


def revalidated(response: httpx.Response, copy: Copy[T] | None, parse: Callable[[Any], T]) -> Copy[T] | None:
    """The copy to use after a GET sent with :func:`if_none_match`: ``copy`` on a 304, the body
    parsed (once per version) with its ETag on a 200, None on any other answer (the caller's
    error). ``parse`` and the body's JSON may raise on a malformed document."""
    if response.status_code == 304 and copy is not None:
        return copy
    if response.status_code != 200:
        return None
    return Copy(parse(response.json()), response.headers.get("etag"))
