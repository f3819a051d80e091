"""One-time activation (issue 19, part 4): the holder sets their own password, within 72 hours,
once, and only a password that passes the policy."""

from __future__ import annotations

import datetime as dt

import httpx
import time_machine

from doorstep_shared.clock import utcnow

from .support import NEW_PASSWORD, activate, bearer, new_worker, problem_fields, sign_in


async def create(gateway: httpx.AsyncClient, username: str) -> str:
    admin = await bearer(gateway, "county.admin")
    resp = await gateway.post("/api/v1/staff", json=new_worker(username), headers=admin)
    assert resp.status_code == 201, resp.text
    return str(resp.json()["activation_code"])


async def test_the_code_works_for_72_hours_and_not_a_second_longer(gateway: httpx.AsyncClient) -> None:
    start = utcnow()
    with time_machine.travel(start, tick=False) as traveller:
        early, late = await create(gateway, "chaoyang.early"), await create(gateway, "chaoyang.late")
        traveller.shift(dt.timedelta(hours=72) - dt.timedelta(seconds=1))
        assert (await activate(gateway, "chaoyang.early", early)).status_code == 200
        traveller.shift(dt.timedelta(seconds=1))
        expired = await activate(gateway, "chaoyang.late", late)
        assert expired.status_code == 400, expired.text
        assert expired.headers["content-type"] == "application/problem+json"
        assert expired.json()["code"] == "activation_expired"
        assert (await sign_in(gateway, "chaoyang.late", NEW_PASSWORD)).status_code == 400


WEAK = [
    ("short-1", "at least 10 characters"),
    ("chaoyang.weak-2024", "must not contain the username"),
    ("password1234", "too common"),
    ("qwertyuiop!", "too common"),
    ("13812345678", "only digits"),
    ("aaaaaaaaaaaaaa", "too few different characters"),
]


async def test_weak_passwords_are_refused_naming_new_password(gateway: httpx.AsyncClient) -> None:
    code = await create(gateway, "chaoyang.weak")
    for password, reason in WEAK:
        resp = await activate(gateway, "chaoyang.weak", code, password, language="en")
        assert resp.status_code == 422, resp.text
        assert problem_fields(resp) == ["body.new_password"]
        assert reason in resp.json()["errors"][0]["message"], (password, resp.json())
    # In Chinese by default, the reason too.
    chinese = await activate(gateway, "chaoyang.weak", code, "short-1")
    assert chinese.json()["errors"][0]["message"] == "至少 10 个字符"
    # The code is not spent by a refused password: a good one still activates.
    assert (await activate(gateway, "chaoyang.weak", code)).status_code == 200


async def test_a_wrong_code_and_an_unknown_user_answer_alike(gateway: httpx.AsyncClient) -> None:
    await create(gateway, "chaoyang.someone")
    wrong = await activate(gateway, "chaoyang.someone", "AAAA-BBBB-CCCC-DDDD")
    unknown = await activate(gateway, "nobody.at.all", "AAAA-BBBB-CCCC-DDDD")
    active = await activate(gateway, "chaoyang.worker", "AAAA-BBBB-CCCC-DDDD")  # no pending activation
    for resp in (wrong, unknown, active):
        assert resp.status_code == 400 and resp.json()["code"] == "activation_invalid"
    assert wrong.json()["detail"] == unknown.json()["detail"] == active.json()["detail"]


async def test_guessing_codes_is_throttled_like_sign_in(gateway: httpx.AsyncClient) -> None:
    code = await create(gateway, "chaoyang.target")
    start = utcnow()
    with time_machine.travel(start, tick=False):
        for _ in range(3):  # the test settings' free failures per (account, address)
            assert (await activate(gateway, "chaoyang.target", "AAAA-BBBB-CCCC-DDDD")).status_code == 400
        # Now waiting: even the right code is refused for a moment …
        refused = await activate(gateway, "chaoyang.target", code)
        assert refused.status_code == 400 and refused.json()["code"] == "activation_invalid"
    with time_machine.travel(start + dt.timedelta(seconds=5), tick=False):
        # … and then it works.
        assert (await activate(gateway, "chaoyang.target", code)).status_code == 200
