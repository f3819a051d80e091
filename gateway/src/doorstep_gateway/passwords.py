"""Password hashing (Argon2 via pwdlib) with a constant-time answer for unknown users."""

from __future__ import annotations

import asyncio

from pwdlib import PasswordHash

_hasher = PasswordHash.recommended()
# Verified against when the username does not exist, so both paths cost the same.
_DUMMY_HASH = _hasher.hash("doorstep-no-such-user")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


async def verify_password(password: str, password_hash: str | None) -> bool:
    """Argon2 verification off the event loop; unknown users cost the same as known ones."""
    if password_hash is None:
        await asyncio.to_thread(_hasher.verify, password, _DUMMY_HASH)
        return False
    return await asyncio.to_thread(_hasher.verify, password, password_hash)
