"""Personal data at rest: AES-GCM ciphertext with its key id, a keyed hash for lookup, masks.

Ciphertext layout (text, storable in any column): ``v1.<kid>.<base64url(nonce || ct+tag)>``.
The key id lets old rows be read after a new key becomes the one that encrypts. The lookup
hash is HMAC-SHA256 under a separate key, so equal values can be found and de-duplicated
without decrypting the table.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_PREFIX = "v1"


def _b64e(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


_URLSAFE = bytes.maketrans(b"-_", b"+/")


def _b64d(text: str) -> bytes:
    # base64.urlsafe_b64decode's work without its wrappers (a resident's read decrypts twice).
    return binascii.a2b_base64(text.encode("ascii").translate(_URLSAFE) + b"=" * (-len(text) % 4))


class PiiCipher:
    def __init__(self, keys: Mapping[str, bytes], active_kid: str, hash_key: bytes) -> None:
        if active_kid not in keys:
            raise ValueError("active PII key id is not among the keys")
        for kid, key in keys.items():
            if len(key) != 32 or "." in kid:
                raise ValueError(f"PII key {kid!r} must be 32 bytes and its id must not contain '.'")
        self._aead = {kid: AESGCM(key) for kid, key in keys.items()}
        self.active_kid = active_kid
        self._hash_key = hash_key

    @classmethod
    def from_config(cls, spec: str, hash_key_b64: str) -> PiiCipher:
        """``spec``: ``kid1:base64key,kid2:base64key``; the first one encrypts."""
        keys: dict[str, bytes] = {}
        order: list[str] = []
        for part in spec.split(","):
            kid, _, b64 = part.strip().partition(":")
            keys[kid] = _b64d(b64)
            order.append(kid)
        return cls(keys, order[0], _b64d(hash_key_b64))

    @classmethod
    def dev(cls, directory: Path) -> PiiCipher:
        """Development keys kept under var/ (made on first use)."""
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / "pii.keys"
        if not path.exists():
            path.write_text(f"dev1:{_b64e(os.urandom(32))}\nhash:{_b64e(os.urandom(32))}\n")
            path.chmod(0o600)
        entries = dict(line.split(":", 1) for line in path.read_text().split())
        hash_key = entries.pop("hash")
        return cls({k: _b64d(v) for k, v in entries.items()}, next(iter(entries)), _b64d(hash_key))

    def encrypt(self, plaintext: str, *, context: str = "") -> str:
        nonce = os.urandom(12)
        ct = self._aead[self.active_kid].encrypt(nonce, plaintext.encode(), context.encode() or None)
        return f"{_PREFIX}.{self.active_kid}.{_b64e(nonce + ct)}"

    def decrypt(self, token: str, *, context: str = "") -> str:
        prefix, kid, body = token.split(".", 2)
        if prefix != _PREFIX or kid not in self._aead:
            raise ValueError("unknown ciphertext format or key id")
        raw = _b64d(body)
        return self._aead[kid].decrypt(raw[:12], raw[12:], context.encode() or None).decode()

    def seal(self, data: bytes, *, context: str = "") -> bytes:
        """Binary ciphertext for a bytea/blob column: ``<kid>.`` then nonce || ct+tag (files)."""
        nonce = os.urandom(12)
        ct = self._aead[self.active_kid].encrypt(nonce, data, context.encode() or None)
        return self.active_kid.encode() + b"." + nonce + ct

    def open(self, sealed: bytes, *, context: str = "") -> bytes:
        """The plaintext of :meth:`seal`'s output (under whichever known key sealed it)."""
        kid, _, raw = bytes(sealed).partition(b".")
        aead = self._aead.get(kid.decode("ascii", "replace"))
        if aead is None or len(raw) < 28:
            raise ValueError("unknown sealed format or key id")
        return aead.decrypt(raw[:12], raw[12:], context.encode() or None)

    @staticmethod
    def key_id_of_sealed(sealed: bytes) -> str:
        return bytes(sealed).partition(b".")[0].decode("ascii", "replace")

    def lookup_hash(self, value: str, *, kind: str) -> str:
        """Deterministic keyed hash of a normalised value (``kind`` separates id numbers from phones)."""
        return hmac.new(self._hash_key, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()

    def key_id_of(self, token: str) -> str:
        return token.split(".", 2)[1]


# --- masking --------------------------------------------------------------------------


def mask_id_number(value: str | None) -> str | None:
    """``340523********1234``: region code and last four kept."""
    if not value:
        return value
    if len(value) <= 10:
        return "*" * len(value)
    return value[:6] + "*" * (len(value) - 10) + value[-4:]


def mask_phone(value: str | None) -> str | None:
    """``138****5678``."""
    if not value:
        return value
    if len(value) < 7:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]


def mask_name(value: str | None) -> str | None:
    """``王*佳`` / ``卜*``: the family name and, for long names, the last character."""
    if not value:
        return value
    if len(value) == 1:
        return value
    if len(value) == 2:
        return value[0] + "*"
    return value[0] + "*" * (len(value) - 2) + value[-1]


# --- validation -----------------------------------------------------------------------

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_ID_RE = re.compile(r"^\d{17}[\dX]$")
_MOBILE_RE = re.compile(r"^1[3-9]\d{9}$")
_LANDLINE_RE = re.compile(r"^0\d{2,3}-?\d{7,8}$")


def normalize_id_number(value: str) -> str:
    return value.strip().upper()


def id_number_checksum_ok(value: str) -> bool:
    """GB 11643-1999: 17 digits weighted mod 11, then the check character."""
    if not _ID_RE.match(value):
        return False
    total = sum(int(d) * w for d, w in zip(value[:17], _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11] == value[17]


def id_number_check_char(first17: str) -> str:
    total = sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11]


def normalize_phone(value: str) -> str:
    digits = re.sub(r"[\s()]", "", value.strip())
    if digits.startswith("+86"):
        digits = digits[3:]
    return digits


def phone_ok(value: str) -> bool:
    return bool(_MOBILE_RE.match(value) or _LANDLINE_RE.match(value))


# --- personal numbers in free text ------------------------------------------------------

# Full-width digits (０-９, typed by Chinese input methods) and letters match like ASCII ones;
# the translation is one character for one, so a match's position is the same in the original.
_FULL_WIDTH = str.maketrans({chr(0xFF10 + i): str(i) for i in range(10)} | {"Ｘ": "X", "ｘ": "x", "＋": "+"})
_GAP = r"[ \t\u3000.\-‐-―－]?"  # what people put between digit groups: spaces, dots, dashes
# A mainland mobile, with or without +86 / 0086 / 86 in front and gaps between the digits.
_FREE_MOBILE = re.compile(
    rf"(?<![\dA-Za-z])(?:(?:\+|00)?86{_GAP}|\(\+?86\){_GAP})?(1{_GAP}[3-9](?:{_GAP}\d){{9}})(?![\d])"
)
# A resident ID number: 18 characters (17 digits and a digit or X) or the old 15 digits.
_FREE_ID = re.compile(rf"(?<![\dA-Za-z])(\d(?:{_GAP}\d){{16}}{_GAP}[\dXx]|\d(?:{_GAP}\d){{14}})(?![\dA-Za-z])")
_NOT_DIGIT = re.compile(r"[^\dXx]")


def redact_text(text: str) -> str:
    """Mask every phone and ID number in free text, however it is spelled: ``138 1234 5678``,
    ``+86-138-1234-5678``, full-width ``１３８…``, 18- and 15-digit ID numbers (``340523********1234``).

    The one function every way out applies (responses, exports, webhooks, logs). Idempotent: a
    masked number no longer matches."""
    if not text:
        return text
    plain = text.translate(_FULL_WIDTH)
    # Mobiles first: ``0086 138…`` is a phone with its prefix, not a 15-digit ID number.
    spans: list[tuple[int, int, str]] = []
    for found in _FREE_MOBILE.finditer(plain):
        spans.append((found.start(), found.end(), mask_phone(_NOT_DIGIT.sub("", found.group(1))) or ""))
    for found in _FREE_ID.finditer(plain):
        if any(start < found.end() and found.start() < end for start, end, _ in spans):
            continue
        digits = _NOT_DIGIT.sub("", found.group(1)).upper()
        spans.append((found.start(), found.end(), mask_id_number(digits) or ""))
    if not spans:
        return text
    out, last = [], 0
    for start, end, masked in sorted(spans):
        out.append(text[last:start])
        out.append(masked)
        last = end
    out.append(text[last:])
    return "".join(out)


def redact_json(value: Any) -> Any:
    """Every string in a JSON-like value through :func:`redact_text` (webhook payloads)."""
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, Mapping):
        return {key: redact_json(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [redact_json(item) for item in value]
    return value
