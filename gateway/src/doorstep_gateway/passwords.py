"""Hashing of staff passwords and client secrets (Argon2id via pwdlib); unknown users cost the same.

Identity (logins) and clients (client secrets) both use it, so it sits beside them, in neither.
"""

from __future__ import annotations

import asyncio

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

_hasher = PasswordHash.recommended()
_dummy_hash: str | None = None


def configure(*, time_cost: int, memory_kib: int) -> None:
    """Set the Argon2 cost (from settings). Existing hashes keep verifying with their own cost."""
    global _hasher, _dummy_hash
    _hasher = PasswordHash((Argon2Hasher(time_cost=time_cost, memory_cost=memory_kib),))
    _dummy_hash = None


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def _dummy() -> str:
    # Verified against when the username does not exist, so both paths cost the same.
    global _dummy_hash
    if _dummy_hash is None:
        _dummy_hash = _hasher.hash("doorstep-no-such-user")
    return _dummy_hash


async def verify_password(password: str, password_hash: str | None) -> bool:
    """Argon2 verification off the event loop; unknown users cost the same as known ones."""
    if password_hash is None:
        await asyncio.to_thread(_hasher.verify, password, _dummy())
        return False
    return await asyncio.to_thread(_hasher.verify, password, password_hash)
