"""Cursor pagination: opaque cursors over a stable sort key, a capped limit."""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel

from .errors import Invalid

T = TypeVar("T")

MAX_LIMIT = 200
DEFAULT_LIMIT = 50


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = None


def encode_cursor(values: Sequence[Any]) -> str:
    raw = json.dumps(list(values), separators=(",", ":"), ensure_ascii=False, default=str).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None, arity: int) -> list[Any] | None:
    """The sort-key values a cursor carries; 422 naming ``query.cursor`` when it is not ours."""
    if not cursor:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        values = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise Invalid.field("query.cursor", "malformed cursor", code="invalid_cursor") from exc
    if not isinstance(values, list) or len(values) != arity:
        raise Invalid.field("query.cursor", "malformed cursor", code="invalid_cursor")
    return values


LimitParam = Annotated[int, Query(ge=1, le=MAX_LIMIT, description=f"Page size (max {MAX_LIMIT})")]
CursorParam = Annotated[str | None, Query(max_length=512, description="Opaque cursor from `next_cursor`")]
