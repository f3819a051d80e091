"""Cursor parsing for query parameters: anything malformed or out of range is a 422."""

from __future__ import annotations

from doorstep_shared.http.pagination import cursor_int, read_cursor


def int_cursor(cursor: str | None, arity: int, field: str = "query.cursor") -> list[int] | None:
    """A cursor of small non-negative integers (ids, positions, version numbers)."""
    return read_cursor(cursor, *([cursor_int] * arity), field=field)
