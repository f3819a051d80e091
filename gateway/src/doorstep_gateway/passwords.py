"""Hashing of staff passwords and client secrets (Argon2id via pwdlib); unknown users cost the same.

Identity (logins) and clients (client secrets) both use it, so it sits beside them, in neither.

A hash costs a fifth of a second of CPU and ``argon2_memory_kib`` of memory (the defaults), so
it never runs on the event loop: every hash and verification runs on the hashing threads, at
most ``argon2_workers`` at once per process (the others wait their turn), each on at most
``argon2_parallelism`` cores. A burst of sign-ins then queues behind itself instead of taking
every core of the machine from the requests the gateway routes meanwhile (``bench_mixed_load``:
with pwdlib's four lanes and asyncio's default pool, sign-ins held the other apps' loops late).
A stored hash verifies with the parameters written in it; a sign-in with the right password
replaces a hash made with other parameters (``verify_and_update``), so accounts move to new
settings as their people sign in.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

T = TypeVar("T")

_hasher = PasswordHash((Argon2Hasher(parallelism=1),))
_workers = 1
_threads = ThreadPoolExecutor(max_workers=_workers, thread_name_prefix="doorstep-argon2")
_dummy_hash: str | None = None


def configure(*, time_cost: int, memory_kib: int, parallelism: int = 1, workers: int = 1) -> None:
    """Set the Argon2 cost and the hashing threads (from settings). Existing hashes keep
    verifying with their own cost."""
    global _hasher, _threads, _workers, _dummy_hash
    _hasher = PasswordHash((Argon2Hasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism),))
    if workers != _workers:
        _threads.shutdown(wait=False)  # a hash under way finishes on its thread
        _threads = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="doorstep-argon2")
        _workers = workers
    _dummy_hash = None


async def _hashing(work: Callable[..., T], *args: str) -> T:
    return await asyncio.get_running_loop().run_in_executor(_threads, work, *args)


async def hash_password(password: str) -> str:
    """A new Argon2id hash of ``password`` (on the hashing threads)."""
    return await _hashing(_hasher.hash, password)


def _dummy() -> str:
    # Verified against when the username does not exist, so both paths cost the same.
    global _dummy_hash
    if _dummy_hash is None:
        _dummy_hash = _hasher.hash("doorstep-no-such-user")
    return _dummy_hash


def _verify_unknown(password: str) -> bool:
    _hasher.verify(password, _dummy())
    return False


async def verify_password(password: str, password_hash: str | None) -> bool:
    """Argon2 verification on the hashing threads; unknown users cost the same as known ones."""
    if password_hash is None:
        return await _hashing(_verify_unknown, password)
    return await _hashing(_hasher.verify, password, password_hash)


async def verify_and_update(password: str, password_hash: str | None) -> tuple[bool, str | None]:
    """``verify_password``, and when the password is right but its hash was made with other
    parameters than the configured ones (older settings, pwdlib's four lanes), a new hash of it
    for the caller to store in its place."""
    if password_hash is None:
        return await _hashing(_verify_unknown, password), None
    return await _hashing(_hasher.verify_and_update, password, password_hash)
