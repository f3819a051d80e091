"""Binary sealing with the PII keys (files at rest): the key id travels in front, a rotated
cipher still opens old slices, and a slice moved to another place does not open."""

from __future__ import annotations

import os

import pytest
from cryptography.exceptions import InvalidTag

from doorstep_shared.pii import PiiCipher

K1, K2, HASH = os.urandom(32), os.urandom(32), os.urandom(32)


def test_a_sealed_slice_opens_under_its_context_and_names_its_key() -> None:
    old = PiiCipher({"k1": K1}, "k1", HASH)
    sealed = old.seal(b"\xff\xd8\xff photo bytes", context="file:a:content:0")
    assert PiiCipher.key_id_of_sealed(sealed) == "k1" and b"photo" not in sealed
    rotated = PiiCipher({"k2": K2, "k1": K1}, "k2", HASH)
    assert rotated.open(sealed, context="file:a:content:0") == b"\xff\xd8\xff photo bytes"
    assert PiiCipher.key_id_of_sealed(rotated.seal(b"x")) == "k2"


def test_a_slice_moved_elsewhere_or_under_an_unknown_key_does_not_open() -> None:
    cipher = PiiCipher({"k1": K1}, "k1", HASH)
    sealed = cipher.seal(b"slice", context="file:a:content:0")
    with pytest.raises(InvalidTag):
        cipher.open(sealed, context="file:a:content:262144")
    with pytest.raises(ValueError, match="unknown"):
        PiiCipher({"k2": K2}, "k2", HASH).open(sealed, context="file:a:content:0")
