"""Cursor pagination: opaque, signed cursors over a stable sort key, a capped limit.

A cursor is ``base64url(JSON list) "." base64url(HMAC-SHA256(key, payload)[:16])``. The MAC means
a client can hand back only cursors this deployment made: anything else (foreign, edited, from an
older release) is a 422 naming the field before a single value reaches a query. The values are
still checked one by one against the kinds the route expects (``read_cursor``), so a cursor from
another list of the same app, or a bug in an encoder, is a 422 and never a 500.

The key is per app and per deployment (``ServiceSettings.cursor_key``); the app's outermost
middleware puts it in :data:`cursor_key_var` for the request, so apps sharing one process (the
tests) never read each other's cursors.
"""

from __future__ import annotations

import base64
import contextvars
import datetime as dt
import hashlib
import hmac
import json
import os
import uuid
from collections.abc import Callable, Sequence
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel

from .errors import Invalid

T = TypeVar("T")

MAX_LIMIT = 200
DEFAULT_LIMIT = 50
MAC_BYTES = 16
# Ids, positions and version numbers: JSON-safe integers that fit a BIGINT column.
MAX_CURSOR_INT = 2**53
MAX_CURSOR_TEXT = 256

# Outside a request (scripts, tests crafting a cursor) a per-process key: such a cursor is
# refused by every app, which is what a cursor nobody issued deserves.
_PROCESS_KEY = os.urandom(32)
cursor_key_var: contextvars.ContextVar[bytes] = contextvars.ContextVar("cursor_key", default=_PROCESS_KEY)


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = None


def _b64e(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _mac(key: bytes, payload: str) -> str:
    return _b64e(hmac.new(key, payload.encode(), hashlib.sha256).digest()[:MAC_BYTES])


def encode_cursor(values: Sequence[Any], *, key: bytes | None = None) -> str:
    raw = json.dumps(list(values), separators=(",", ":"), ensure_ascii=False, default=str).encode()
    payload = _b64e(raw)
    return f"{payload}.{_mac(key or cursor_key_var.get(), payload)}"


def _bad(field: str) -> Invalid:
    return Invalid.field(field, "malformed cursor", code="invalid_cursor")


def _reject_constant(_: str) -> Any:
    raise ValueError("NaN and Infinity are not JSON")


def decode_cursor(
    cursor: str | None, arity: int, *, field: str = "query.cursor", key: bytes | None = None
) -> list[Any] | None:
    """The values a cursor this app signed carries (``arity`` of them); 422 naming ``field`` otherwise."""
    if not cursor:
        return None
    payload, dot, mac = cursor.partition(".")
    if not dot or not hmac.compare_digest(mac.encode(), _mac(key or cursor_key_var.get(), payload).encode()):
        raise _bad(field)
    try:
        raw = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
        values = json.loads(raw, parse_constant=_reject_constant)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise _bad(field) from exc
    if not isinstance(values, list) or len(values) != arity:
        raise _bad(field)
    return values


# --- the kinds of value a cursor carries --------------------------------------------------

CursorKind = Callable[[Any, str], Any]


def cursor_int(value: Any, field: str = "query.cursor") -> int:
    """An id, position or version number: a non-negative JSON-safe integer."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < MAX_CURSOR_INT:
        raise _bad(field)
    return value


def cursor_text(value: Any, field: str = "query.cursor") -> str:
    """A short string a database can compare (no NUL, no lone surrogate)."""
    if not isinstance(value, str) or len(value) > MAX_CURSOR_TEXT or "\x00" in value:
        raise _bad(field)
    try:
        value.encode()
    except UnicodeEncodeError as exc:
        raise _bad(field) from exc
    return value


def cursor_optional_text(value: Any, field: str = "query.cursor") -> str | None:
    """A sort column that may be NULL (a household's building, unit or room)."""
    return None if value is None else cursor_text(value, field)


def cursor_uuid(value: Any, field: str = "query.cursor") -> uuid.UUID:
    if not isinstance(value, str) or len(value) > 64:
        raise _bad(field)
    try:
        return uuid.UUID(value)
    except ValueError as exc:
        raise _bad(field) from exc


def cursor_instant(value: Any, field: str = "query.cursor") -> dt.datetime:
    """A timezone-aware instant, in UTC (years a database stores on both backends)."""
    if not isinstance(value, str) or len(value) > 64:
        raise _bad(field)
    try:
        instant = dt.datetime.fromisoformat(value)
        if instant.tzinfo is None or not 1900 <= instant.year <= 9000:
            raise _bad(field)
        return instant.astimezone(dt.UTC)
    except (ValueError, OverflowError) as exc:
        raise _bad(field) from exc


def cursor_timestamp(value: Any, field: str = "query.cursor") -> dt.datetime:
    """A sort-key timestamp as the database gave it (SQLite may hand back a naive one)."""
    if not isinstance(value, str) or len(value) > 64:
        raise _bad(field)
    try:
        return dt.datetime.fromisoformat(value)
    except ValueError as exc:
        raise _bad(field) from exc


def read_cursor(cursor: str | None, *kinds: CursorKind, field: str = "query.cursor") -> list[Any] | None:
    """A signed cursor checked as a whole: one value per kind, each of its kind; 422 otherwise."""
    values = decode_cursor(cursor, len(kinds), field=field)
    if values is None:
        return None
    return [kind(value, field) for kind, value in zip(kinds, values, strict=True)]


LimitParam = Annotated[int, Query(ge=1, le=MAX_LIMIT, description=f"Page size (max {MAX_LIMIT})")]
CursorParam = Annotated[str | None, Query(max_length=512, description="Opaque cursor from `next_cursor`")]
