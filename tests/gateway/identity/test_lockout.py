"""Wrong passwords slow one address down and never lock a user out from elsewhere; unknown and
existing usernames answer alike (issue 17, part 3). The test settings: 3 free failures per
(account, address), waits doubling from 1 s up to 300 s, an account-wide ceiling of 8."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
import pytest
import time_machine
from fastapi import FastAPI

from doorstep_gateway.identity import service

pytestmark = pytest.mark.dates

PASSWORD = "doorstep-demo"
USUAL = "198.51.100.10"  # where zhenhuai.admin signs in every day


async def sign_in(app: FastAPI, username: str, password: str, address: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        return await client.post(
            "/api/v1/auth/token", data={"grant_type": "password", "username": username, "password": password}
        )


def answer(resp: httpx.Response) -> tuple[int, Any, Any, Any]:
    body = resp.json()
    return resp.status_code, body["error"], body["detail"], resp.headers.get("retry-after")


async def test_strangers_anywhere_cannot_lock_an_admin_out_of_their_usual_address(
    gateway: httpx.AsyncClient, gateway_app: FastAPI
) -> None:
    assert (await sign_in(gateway_app, "zhenhuai.admin", PASSWORD, USUAL)).status_code == 200
    # Five wrong passwords from one address, then more from many: past the account-wide ceiling.
    for _ in range(5):
        assert (await sign_in(gateway_app, "zhenhuai.admin", "guess", "203.0.113.1")).status_code == 400
    for n in range(2, 8):
        assert (await sign_in(gateway_app, "zhenhuai.admin", "guess", f"203.0.113.{n}")).status_code == 400
    # The stranger with the right password (say, a stolen one) is refused at a new address …
    assert (await sign_in(gateway_app, "zhenhuai.admin", PASSWORD, "192.0.2.99")).status_code == 400
    # … and the admin, at their usual address, still signs in.
    assert (await sign_in(gateway_app, "zhenhuai.admin", PASSWORD, USUAL)).status_code == 200


async def test_one_address_waits_longer_after_each_failure_and_then_signs_in(gateway_app: FastAPI) -> None:
    here = "198.51.100.20"
    start = dt.datetime(2026, 12, 3, 9, 0, tzinfo=dt.UTC)
    with time_machine.travel(start, tick=False) as traveller:
        for _ in range(3):  # free failures, then the third earns a 1 s wait
            assert (await sign_in(gateway_app, "zhenhuai.worker", "bad", here)).status_code == 400
        assert (await sign_in(gateway_app, "zhenhuai.worker", PASSWORD, here)).status_code == 400  # waiting
        assert (await sign_in(gateway_app, "zhenhuai.worker", PASSWORD, "198.51.100.21")).status_code == 200
        traveller.shift(1.5)
        assert (await sign_in(gateway_app, "zhenhuai.worker", "bad", here)).status_code == 400  # now 2 s
        traveller.shift(1.5)
        assert (await sign_in(gateway_app, "zhenhuai.worker", PASSWORD, here)).status_code == 400  # still waiting
        traveller.shift(1)
        assert (await sign_in(gateway_app, "zhenhuai.worker", PASSWORD, here)).status_code == 200


async def test_unknown_and_existing_usernames_answer_alike_and_cost_alike(
    gateway: httpx.AsyncClient, gateway_app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    hashed: list[str] = []
    real = service.verify_and_update

    async def counting(password: str, password_hash: str | None) -> tuple[bool, str | None]:
        hashed.append("x")
        return await real(password, password_hash)

    monkeypatch.setattr(service, "verify_and_update", counting)
    runs: dict[str, list[tuple[Any, ...]]] = {}
    for username in ("zhenhuai.admin", "nobody.at.all"):
        hashed.clear()
        with time_machine.travel(dt.datetime(2026, 12, 3, 9, 0, tzinfo=dt.UTC), tick=False):
            answers = [answer(await sign_in(gateway_app, username, "bad", "198.51.100.30")) for _ in range(5)]
        runs[username] = [*answers, ("hashes", len(hashed))]
    assert runs["zhenhuai.admin"] == runs["nobody.at.all"]
    assert runs["nobody.at.all"][-1] == ("hashes", 3)  # throttled attempts hash for nobody
