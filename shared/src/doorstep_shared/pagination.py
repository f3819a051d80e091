"""Moved to doorstep_shared.http.pagination; removed once every package imports the new path."""

from doorstep_shared.http.pagination import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    CursorParam,
    LimitParam,
    Page,
    T,
    decode_cursor,
    encode_cursor,
)

__all__ = [
    "DEFAULT_LIMIT",
    "MAX_LIMIT",
    "CursorParam",
    "LimitParam",
    "Page",
    "T",
    "decode_cursor",
    "encode_cursor",
]
