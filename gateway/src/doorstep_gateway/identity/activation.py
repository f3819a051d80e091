"""One-time activation codes: how they look, how long they live, how they are kept.

A code is 16 characters of Crockford's base32 (80 random bits from ``secrets``), shown in groups
of four so it can be read out over the phone: ``7K3M-Q9XD-2HPA-WT4N``. Only its SHA-256 is kept:
a slow password hash protects low-entropy secrets people choose; against 80 random bits an
offline search is hopeless either way, while online guessing meets the sign-in throttle and the
72-hour expiry. Typing slips (lower case, dashes, spaces, O for 0, I or L for 1) are forgiven.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford: no I, L, O, U
LENGTH = 16
LIFETIME = dt.timedelta(hours=72)
_SLIPS = str.maketrans({"O": "0", "I": "1", "L": "1", "-": None, " ": None})


def new_code() -> str:
    raw = "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
    return "-".join(raw[i : i + 4] for i in range(0, LENGTH, 4))


def code_hash(code: str) -> str:
    normalised = code.upper().translate(_SLIPS)
    return hashlib.sha256(f"doorstep.activation:{normalised}".encode()).hexdigest()


def code_matches(code: str, stored_hash: str | None) -> bool:
    return stored_hash is not None and hmac.compare_digest(code_hash(code), stored_hash)
