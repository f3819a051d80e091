"""Cursor and date parsing for query parameters: anything malformed or out of range is a 422."""

from __future__ import annotations

import datetime as dt
from typing import Any

from doorstep_shared.http.errors import Invalid
from doorstep_shared.http.pagination import decode_cursor

MAX_CURSOR_INT = 2**53


def _bad(field: str) -> Invalid:
    return Invalid.field(field, "malformed cursor", code="invalid_cursor")


def cursor_int(value: Any, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < MAX_CURSOR_INT:
        raise _bad(field)
    return value


def int_cursor(cursor: str | None, arity: int, field: str = "query.cursor") -> list[int] | None:
    """A cursor of small non-negative integers (ids, positions, version numbers)."""
    values = decode_cursor(cursor, arity)
    if values is None:
        return None
    return [cursor_int(v, field) for v in values]


def instant_cursor(value: Any, field: str = "query.cursor") -> dt.datetime:
    """A timezone-aware instant carried in a cursor, in UTC."""
    if not isinstance(value, str) or len(value) > 64:
        raise _bad(field)
    try:
        instant = dt.datetime.fromisoformat(value)
        if instant.tzinfo is None:
            raise _bad(field)
        return instant.astimezone(dt.UTC)
    except (ValueError, OverflowError) as exc:
        raise _bad(field) from exc
