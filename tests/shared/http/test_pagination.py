"""Signed cursors: an app reads back only the cursors it made, each value of the kind it expects."""

from __future__ import annotations

import base64
import uuid
from pathlib import Path

import pytest

from doorstep_shared.config import ServiceSettings
from doorstep_shared.http.errors import Invalid
from doorstep_shared.http.pagination import (
    cursor_instant,
    cursor_int,
    cursor_optional_text,
    cursor_text,
    cursor_uuid,
    decode_cursor,
    encode_cursor,
    read_cursor,
)

KEY, OTHER = b"k" * 32, b"o" * 32


def signed(payload: str) -> str:
    """A cursor over exactly this JSON text, signed with ``KEY``."""
    from doorstep_shared.http.pagination import _mac

    body = base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")
    return f"{body}.{_mac(KEY, body)}"


def refused(cursor: str, *kinds: object, key: bytes = KEY) -> Invalid:
    from doorstep_shared.http import pagination

    token = pagination.cursor_key_var.set(key)
    try:
        with pytest.raises(Invalid) as caught:
            read_cursor(cursor, *kinds, field="query.cursor")  # type: ignore[arg-type]
    finally:
        pagination.cursor_key_var.reset(token)
    assert caught.value.errors[0]["field"] == "query.cursor"
    return caught.value


def test_a_cursor_round_trips_under_its_key_only() -> None:
    made = encode_cursor(["2026-01-01T00:00:00+00:00", 7], key=KEY)
    assert decode_cursor(made, 2, key=KEY) == ["2026-01-01T00:00:00+00:00", 7]
    with pytest.raises(Invalid):
        decode_cursor(made, 2, key=OTHER)
    with pytest.raises(Invalid):
        decode_cursor(made.split(".")[0], 2, key=KEY)  # the unsigned cursors of earlier releases


@pytest.mark.parametrize("payload", ["[118059162071741130342]", "[1e999]", "[null]", '[{"a": 1}]', "[[1]]", "[-1]"])
def test_the_probes_values_are_refused_even_when_signed(payload: str) -> None:
    refused(signed(payload), cursor_int)
    refused(signed(payload).split(".")[0], cursor_int)


def test_each_kind_checks_its_value() -> None:
    for kinds, values in (
        ((cursor_text,), ["a\x00b"]),
        ((cursor_text,), ["x" * 300]),
        ((cursor_uuid,), ["not-a-uuid"]),
        ((cursor_instant,), ["2026-01-01T00:00:00"]),
        ((cursor_instant,), ["0001-01-01T00:00:00+00:00"]),
        ((cursor_int,), [True]),
        ((cursor_int, cursor_int), [1]),
    ):
        refused(encode_cursor(values, key=KEY), *kinds)
    refused(signed('["\\ud800"]'), cursor_text)  # a lone surrogate, which no database stores
    from doorstep_shared.http import pagination

    token = pagination.cursor_key_var.set(KEY)
    try:
        row = str(uuid.uuid4())
        assert read_cursor(encode_cursor([None, row], key=KEY), cursor_optional_text, cursor_uuid) == [
            None,
            uuid.UUID(row),
        ]
    finally:
        pagination.cursor_key_var.reset(token)


def test_the_key_comes_from_the_secrets_or_a_file_kept_under_var(tmp_path: Path) -> None:
    kept = ServiceSettings(environment="test", var_dir=tmp_path)
    assert kept.cursor_key() == ServiceSettings(environment="test", var_dir=tmp_path).cursor_key()
    assert kept.cursor_key() != ServiceSettings(environment="test", var_dir=tmp_path / "other").cursor_key()
    configured = ServiceSettings(environment="test", var_dir=tmp_path / "a", cursor_secret="s3cret")
    again = ServiceSettings(environment="test", var_dir=tmp_path / "b", cursor_secret="s3cret")
    assert configured.cursor_key() == again.cursor_key()  # replicas sharing a secret agree
