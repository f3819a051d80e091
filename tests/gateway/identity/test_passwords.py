"""Password hashes never run on the event loop: every hash and verification runs on the hashing
threads, at most ``argon2_workers`` at once (one by default), with ``argon2_parallelism`` lanes; a
hash made with other parameters still verifies with its own, and a sign-in replaces it."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher
from sqlalchemy import select
from sqlmodel import col

from doorstep_gateway import passwords
from doorstep_gateway.identity.models import User

TOKEN = "/api/v1/auth/token"

CHEAP = {"time_cost": 1, "memory_kib": 1024}


class _Watched:
    """The configured hasher, noting on which threads it ran and how many ran at once."""

    def __init__(self, hasher: Any) -> None:
        self._hasher = hasher
        self._lock = threading.Lock()
        self.running = 0
        self.most = 0
        self.threads: set[str] = set()

    def _enter(self) -> None:
        with self._lock:
            self.running += 1
            self.most = max(self.most, self.running)
            self.threads.add(threading.current_thread().name)

    def _leave(self) -> None:
        with self._lock:
            self.running -= 1

    def hash(self, password: str) -> str:
        self._enter()
        try:
            return str(self._hasher.hash(password))
        finally:
            self._leave()

    def verify(self, password: str, hashed: str) -> bool:
        self._enter()
        try:
            return bool(self._hasher.verify(password, hashed))
        finally:
            self._leave()


@pytest.fixture
def watched() -> Iterator[None]:
    yield
    passwords.configure(**CHEAP)  # one worker again for whatever runs next in this process


async def _burst(workers: int, monkeypatch: pytest.MonkeyPatch) -> _Watched:
    passwords.configure(**CHEAP, workers=workers)
    spy = _Watched(passwords._hasher)
    monkeypatch.setattr(passwords, "_hasher", spy)
    stored = await passwords.hash_password("correct horse")
    checks = [passwords.verify_password("correct horse" if i % 2 else "wrong", stored) for i in range(8)]
    checks.append(passwords.verify_password("anything", None))  # an unknown user costs a hash too
    answers = await asyncio.gather(*checks)
    assert answers == [bool(i % 2) for i in range(8)] + [False]
    return spy


async def test_hashes_run_on_the_hashing_threads_one_at_a_time_by_default(
    watched: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    spy = await _burst(1, monkeypatch)
    assert spy.most == 1
    assert spy.threads and all(name.startswith("doorstep-argon2") for name in spy.threads)
    assert threading.current_thread().name not in spy.threads


async def test_new_hashes_take_the_configured_lanes_and_old_ones_still_verify(watched: None) -> None:
    old = PasswordHash((Argon2Hasher(time_cost=1, memory_cost=1024, parallelism=4),)).hash("doorstep-demo")
    passwords.configure(**CHEAP, parallelism=1)
    new = await passwords.hash_password("doorstep-demo")
    assert "p=1$" in new and "p=4$" in old
    assert await passwords.verify_password("doorstep-demo", old)
    assert await passwords.verify_password("doorstep-demo", new)
    assert not await passwords.verify_password("doorstep-dem0", old)


async def test_a_sign_in_replaces_a_hash_made_with_other_parameters(
    gateway: httpx.AsyncClient, gateway_app: FastAPI
) -> None:
    old = PasswordHash((Argon2Hasher(time_cost=1, memory_cost=1024, parallelism=4),)).hash("doorstep-demo")
    async with gateway_app.state.sessionmaker() as session:
        user = (await session.execute(select(User).where(col(User.username) == "county.admin"))).scalar_one()
        user.password_hash = old
        await session.commit()
    wrong = {"grant_type": "password", "username": "county.admin", "password": "doorstep-dem0"}
    assert (await gateway.post(TOKEN, data=wrong)).status_code == 400
    assert await _stored_hash(gateway_app) == old  # a wrong password changes nothing
    right = {**wrong, "password": "doorstep-demo"}
    assert (await gateway.post(TOKEN, data=right)).status_code == 200, "signed in with the old hash"
    new = await _stored_hash(gateway_app)
    assert new != old and "p=1$" in new
    assert (await gateway.post(TOKEN, data=right)).status_code == 200, "and with the new one"
    assert await _stored_hash(gateway_app) == new  # once upgraded, kept


async def _stored_hash(app: FastAPI) -> str:
    async with app.state.sessionmaker() as session:
        user = (await session.execute(select(User).where(col(User.username) == "county.admin"))).scalar_one()
        return str(user.password_hash)
