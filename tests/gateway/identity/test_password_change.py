"""Self-service password change and per-role password expiry (issue 20), with a travelled clock:
POST /api/v1/auth/password needs no token (an expired password can be changed), is checked as
a sign-in is (throttle, answers, second factor), follows the activation rules, and ends every
session; a password older than its role's PASSWORD_MAX_AGE_DAYS signs in no more (401
password_expired) while a wrong one still gets the ordinary answer."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
import pyotp
import pytest
import time_machine

from doorstep_shared.clock import utcnow

from ...support import Tokens
from ..staff.support import problem_fields

PASSWORD = "doorstep-demo"
NEW = "Stairwell-Signal-7"
TOKEN = "/api/v1/auth/token"
CHANGE = "/api/v1/auth/password"
START = dt.datetime(2026, 12, 3, 9, 0, 5, tzinfo=dt.UTC)


async def sign_in(client: httpx.AsyncClient, username: str, password: str = PASSWORD, **extra: str) -> httpx.Response:
    data = {"grant_type": "password", "username": username, "password": password, **extra}
    return await client.post(TOKEN, data=data, headers={"Accept-Language": "en"})


async def change(
    client: httpx.AsyncClient, username: str, current: str = PASSWORD, new: str = NEW, **extra: str
) -> httpx.Response:
    body = {"username": username, "current_password": current, "new_password": new, **extra}
    return await client.post(CHANGE, json=body, headers={"Accept-Language": "en"})


def bearer(resp: httpx.Response) -> dict[str, str]:
    assert resp.status_code == 200, resp.text
    return {"Authorization": f"Bearer {resp.json()['access_token']}"}


async def test_a_user_changes_their_password_without_a_token_and_every_session_ends(
    gateway: httpx.AsyncClient, tokens: Tokens
) -> None:
    phone = await sign_in(gateway, "chaoyang.worker")
    assert phone.status_code == 200
    changed = await change(gateway, "chaoyang.worker")
    assert changed.status_code == 200, changed.text
    assert changed.json() == {"username": "chaoyang.worker", "status": "password_changed", "sessions_ended": True}
    # Every session ended: the phone's refresh fails; the old password no longer signs in.
    refreshed = await gateway.post(
        TOKEN, data={"grant_type": "refresh_token", "refresh_token": phone.json()["refresh_token"]}
    )
    assert refreshed.status_code == 400
    assert (await sign_in(gateway, "chaoyang.worker")).status_code == 400
    mine = bearer(await sign_in(gateway, "chaoyang.worker", NEW))
    history = (await gateway.get("/api/v1/auth/logins", headers=mine)).json()["items"]
    assert [(h["outcome"], h["reason"], h["via"]) for h in history[:3]] == [
        ("success", None, None),
        ("failure", "bad_password", None),
        ("success", None, "password_change"),
    ]
    auditor = tokens.headers("auditor", community=None)
    log = await gateway.get("/api/v1/audit", params={"action": "staff.password_changed"}, headers=auditor)
    [entry] = log.json()["items"]
    assert (entry["actor"], entry["subject_id"], entry["details"]["sessions_ended"]) == (
        "chaoyang.worker",
        "chaoyang.worker",
        1,
    )
    assert NEW not in str(log.json()) and PASSWORD not in str(log.json())


async def test_a_wrong_current_password_answers_as_sign_in_does_and_is_throttled(gateway: httpx.AsyncClient) -> None:
    with time_machine.travel(utcnow(), tick=False) as clock:
        wrong = await change(gateway, "chaoyang.worker", current="not-the-password")
        unknown = await change(gateway, "nobody.here", current="not-the-password")
        refused = await sign_in(gateway, "chaoyang.worker", "not-the-password")
        assert wrong.status_code == unknown.status_code == refused.status_code == 400
        assert wrong.json()["code"] == unknown.json()["code"] == "invalid_grant"
        assert wrong.json()["detail"] == unknown.json()["detail"] == refused.json()["detail"]
        # The same rows as sign-in: the third failure (the suite's LOGIN_MAX_FAILURES) makes the next wait,
        # at both doors, even with the right password.
        assert (await change(gateway, "chaoyang.worker", current="not-the-password")).status_code == 400
        assert (await change(gateway, "chaoyang.worker")).status_code == 400
        assert (await sign_in(gateway, "chaoyang.worker")).status_code == 400
        clock.shift(dt.timedelta(seconds=2))
        assert (await change(gateway, "chaoyang.worker")).status_code == 200


@pytest.mark.parametrize(
    ("new", "why"),
    [
        ("short-1", "at least 10 characters"),
        ("my-chaoyang.worker-pw", "must not contain the username"),
        ("password2024!", "too common"),
        (PASSWORD + "-x", None),  # accepted (control)
    ],
)
async def test_the_new_password_follows_the_activation_rules(
    gateway: httpx.AsyncClient, new: str, why: str | None
) -> None:
    resp = await change(gateway, "chaoyang.worker", new=new)
    if why is None:
        assert resp.status_code == 200, resp.text
        return
    assert resp.status_code == 422
    assert resp.json()["code"] == "weak_password"
    assert problem_fields(resp) == ["body.new_password"]
    assert why in resp.text
    assert (await sign_in(gateway, "chaoyang.worker")).status_code == 200  # nothing changed


async def test_the_new_password_must_differ_from_the_current_one(gateway: httpx.AsyncClient) -> None:
    current = "Harbour-Kite-2290"
    assert (await change(gateway, "chaoyang.worker", new=current)).status_code == 200
    same = await change(gateway, "chaoyang.worker", current=current, new=current)
    assert same.status_code == 422 and "must differ" in same.text


async def test_an_account_with_two_factors_needs_its_code_to_change_the_password(gateway: httpx.AsyncClient) -> None:
    with time_machine.travel(START, tick=False) as clock:
        headers = bearer(await sign_in(gateway, "chaoyang.worker"))
        secret = (await gateway.post("/api/v1/auth/mfa/enroll", headers=headers)).json()["secret"]
        confirm = {"code": pyotp.TOTP(secret).at(utcnow())}
        assert (await gateway.post("/api/v1/auth/mfa/confirm", json=confirm, headers=headers)).status_code == 200
        clock.shift(dt.timedelta(seconds=60))
        missing = await change(gateway, "chaoyang.worker")
        assert missing.status_code == 401 and missing.json()["code"] == "mfa_required"
        wrong = await change(gateway, "chaoyang.worker", otp="000000")
        assert wrong.status_code == 401 and wrong.json()["code"] == "mfa_invalid"
        clock.shift(dt.timedelta(seconds=60))
        done = await change(gateway, "chaoyang.worker", otp=pyotp.TOTP(secret).at(utcnow()))
        assert done.status_code == 200, done.text


async def test_a_password_older_than_its_roles_max_age_must_be_changed_first(
    gateway: httpx.AsyncClient, configure: Any
) -> None:
    configure(password_max_age_days="social_worker:90,county_admin:30")
    with time_machine.travel(utcnow(), tick=False) as clock:
        assert (await sign_in(gateway, "chaoyang.worker")).status_code == 200
        clock.shift(dt.timedelta(days=91))
        expired = await sign_in(gateway, "chaoyang.worker")
        assert expired.status_code == 401, expired.text
        problem = expired.json()
        assert problem["code"] == "password_expired"
        assert problem["password_change"] == CHANGE and CHANGE in problem["detail"]
        # A wrong password still gets the ordinary answer: expiry says nothing to a stranger.
        wrong = await sign_in(gateway, "chaoyang.worker", "not-the-password")
        assert wrong.status_code == 400 and wrong.json()["code"] == "invalid_grant"
        # A role without a max age is not touched (station keepers are not named).
        assert (await sign_in(gateway, "shuxiang.keeper")).status_code == 200
        changed = await change(gateway, "chaoyang.worker")  # the expired password changes itself
        assert changed.status_code == 200, changed.text
        mine = bearer(await sign_in(gateway, "chaoyang.worker", NEW))
        history = (await gateway.get("/api/v1/auth/logins", headers=mine)).json()["items"]
        assert "password_expired" in [h["reason"] for h in history]
        clock.shift(dt.timedelta(days=89))
        assert (await sign_in(gateway, "chaoyang.worker", NEW)).status_code == 200
        clock.shift(dt.timedelta(days=2))
        assert (await sign_in(gateway, "chaoyang.worker", NEW)).json()["code"] == "password_expired"


async def test_passwords_never_expire_by_default(gateway: httpx.AsyncClient) -> None:
    with time_machine.travel(utcnow(), tick=False) as clock:
        clock.shift(dt.timedelta(days=3650))
        assert (await sign_in(gateway, "chaoyang.worker")).status_code == 200


async def test_a_malformed_max_age_is_refused_at_start_up() -> None:
    from doorstep_gateway.config import GatewaySettings

    with pytest.raises(ValueError, match="PASSWORD_MAX_AGE_DAYS"):
        GatewaySettings(environment="test", password_max_age_days="social_worker")
    with pytest.raises(ValueError, match="at least 1 day"):
        GatewaySettings(environment="test", password_max_age_days="social_worker:0")
    assert GatewaySettings(environment="test", password_max_age_days="auditor:60").role_password_max_age == {
        "auditor": 60
    }
