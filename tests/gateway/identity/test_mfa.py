"""Two-factor sign-in (TOTP, RFC 6238): enrol, confirm, sign in with and without codes, replay,
recovery codes, disable, timing parity with a wrong password, and the required-MFA roles."""

from __future__ import annotations

import datetime as dt
import statistics
import time
from collections.abc import Iterator

import httpx
import pyotp
import pytest
import time_machine
from fastapi import FastAPI
from sqlalchemy import delete, select

from doorstep_gateway.identity.models import LoginThrottle, MfaFactor, MfaRecoveryCode
from doorstep_shared.clock import utcnow

PASSWORD = "doorstep-demo"
TOKEN = "/api/v1/auth/token"
START = dt.datetime(2026, 12, 3, 9, 0, 5, tzinfo=dt.UTC)


async def login(client: httpx.AsyncClient, username: str, password: str = PASSWORD, **extra: str) -> httpx.Response:
    return await client.post(
        TOKEN,
        data={"grant_type": "password", "username": username, "password": password, **extra},
        headers={"Accept-Language": "en"},
    )


async def bearer(client: httpx.AsyncClient, username: str, **extra: str) -> dict[str, str]:
    resp = await login(client, username, **extra)
    assert resp.status_code == 200, resp.text
    return {"Authorization": f"Bearer {resp.json()['access_token']}"}


def code_at(secret: str, when: dt.datetime) -> str:
    return pyotp.TOTP(secret).at(when)


@pytest.fixture
def clock() -> Iterator[time_machine.Traveller]:
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


async def enrol(client: httpx.AsyncClient, headers: dict[str, str]) -> tuple[str, list[str]]:
    """Enrol and confirm; the secret and the recovery codes."""
    started = await client.post("/api/v1/auth/mfa/enroll", headers=headers)
    assert started.status_code == 200, started.text
    secret = started.json()["secret"]
    confirmed = await client.post("/api/v1/auth/mfa/confirm", json={"code": code_at(secret, utcnow())}, headers=headers)
    assert confirmed.status_code == 200, confirmed.text
    return secret, confirmed.json()["recovery_codes"]


async def test_enrolment_answers_a_secret_its_uri_and_a_server_rendered_qr_code(
    gateway: httpx.AsyncClient, gateway_app: FastAPI
) -> None:
    headers = await bearer(gateway, "county.admin")
    resp = await gateway.post("/api/v1/auth/mfa/enroll", headers=headers)
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["otpauth_uri"].startswith("otpauth://totp/Doorstep:county.admin?")
    assert f"secret={body['secret']}" in body["otpauth_uri"]
    assert body["qr_svg"].lstrip().startswith("<svg") and "<path" in body["qr_svg"]
    # Kept encrypted: the stored ciphertext does not contain the secret.
    async with gateway_app.state.sessionmaker() as session:
        stored = (await session.execute(select(MfaFactor))).scalars().one()
    assert stored.username == "county.admin" and stored.confirmed_at is None
    assert body["secret"] not in stored.secret_cipher
    # Not confirmed yet: sign-in does not ask for a code.
    assert (await login(gateway, "county.admin")).status_code == 200


async def test_sign_in_with_two_factors_right_wrong_missing_and_replayed_codes(
    gateway: httpx.AsyncClient, clock: time_machine.Traveller
) -> None:
    secret, _ = await enrol(gateway, await bearer(gateway, "county.admin"))

    missing = await login(gateway, "county.admin")
    assert missing.status_code == 401
    assert missing.headers["content-type"] == "application/problem+json"
    assert missing.json()["code"] == "mfa_required"

    wrong = await login(gateway, "county.admin", otp="000000" if code_at(secret, utcnow()) != "000000" else "111111")
    assert wrong.status_code == 401 and wrong.json()["code"] == "mfa_invalid"

    # The code the confirmation used is spent already: the next step's code signs in.
    clock.shift(30)
    fresh = code_at(secret, utcnow())
    ok = await login(gateway, "county.admin", otp=fresh)
    assert ok.status_code == 200, ok.text
    replay = await login(gateway, "county.admin", otp=fresh)
    assert replay.status_code == 401 and replay.json()["code"] == "mfa_invalid"
    # An older step's code (still inside the drift window) is refused once a newer one was used.
    clock.shift(30)
    older = code_at(secret, utcnow() - dt.timedelta(seconds=60))
    assert (await login(gateway, "county.admin", otp=older)).json()["code"] == "mfa_invalid"
    # A wrong password with the right code is a plain wrong password (nothing spent).
    clock.shift(30)
    now_code = code_at(secret, utcnow())
    bad_password = await login(gateway, "county.admin", "not-the-password", otp=now_code)
    assert bad_password.status_code == 400 and bad_password.json()["error"] == "invalid_grant"
    clock.shift(2)  # past the throttle's first wait (three failures in a row), same 30-second step
    assert (await login(gateway, "county.admin", otp=now_code)).status_code == 200


async def test_recovery_codes_sign_in_once_each(gateway: httpx.AsyncClient, gateway_app: FastAPI) -> None:
    _, codes = await enrol(gateway, await bearer(gateway, "county.admin"))
    assert len(codes) == 10 and len(set(codes)) == 10
    async with gateway_app.state.sessionmaker() as session:
        stored = (await session.execute(select(MfaRecoveryCode.code_hash))).scalars().all()
    assert len(stored) == 10 and not set(codes) & set(stored)  # only hashes are kept

    assert (await login(gateway, "county.admin", otp=codes[0])).status_code == 200
    again = await login(gateway, "county.admin", otp=codes[0])
    assert again.status_code == 401 and again.json()["code"] == "mfa_invalid"
    assert (await login(gateway, "county.admin", otp=codes[1].lower())).status_code == 200
    # Another account's recovery code is no use here.
    other = await enrol(gateway, await bearer(gateway, "county.auditor"))
    assert (await login(gateway, "county.admin", otp=other[1][0])).json()["code"] == "mfa_invalid"


async def test_disable_needs_a_current_code(gateway: httpx.AsyncClient, clock: time_machine.Traveller) -> None:
    secret, _ = await enrol(gateway, await bearer(gateway, "zhenhuai.admin"))
    clock.shift(30)
    headers = await bearer(gateway, "zhenhuai.admin", otp=code_at(secret, utcnow()))
    refused = await gateway.post("/api/v1/auth/mfa/disable", json={"code": "123456"}, headers=headers)
    assert refused.status_code == 422 and refused.json()["code"] == "mfa_invalid"
    clock.shift(30)
    off = await gateway.post("/api/v1/auth/mfa/disable", json={"code": code_at(secret, utcnow())}, headers=headers)
    assert off.status_code == 200, off.text
    assert (await login(gateway, "zhenhuai.admin")).status_code == 200


async def test_enrolling_twice_is_refused_once_confirmed(gateway: httpx.AsyncClient) -> None:
    headers = await bearer(gateway, "county.admin")
    await enrol(gateway, headers)
    again = await gateway.post("/api/v1/auth/mfa/enroll", headers=headers)
    assert again.status_code == 409 and again.json()["code"] == "mfa_already_enabled"


async def test_a_wrong_code_costs_what_a_wrong_password_costs(gateway: httpx.AsyncClient, gateway_app: FastAPI) -> None:
    """Both paths hash the password once and check a second factor once: alternating samples
    of each stay within a factor of each other (the throttle is cleared between attempts so
    neither path is short-cut by a wait)."""
    secret, _ = await enrol(gateway, await bearer(gateway, "county.admin"))

    async def timed(password: str, otp: str) -> float:
        async with gateway_app.state.sessionmaker() as session:
            await session.execute(delete(LoginThrottle))
            await session.commit()
        started = time.perf_counter()
        resp = await login(gateway, "county.admin", password, otp=otp)
        elapsed = time.perf_counter() - started
        assert resp.status_code in (400, 401)
        return elapsed

    wrong_code = "000000" if code_at(secret, utcnow()) != "000000" else "111111"
    await timed("nope", wrong_code)  # warm-up
    password_times, code_times = [], []
    for _ in range(15):
        password_times.append(await timed("not-the-password", wrong_code))
        code_times.append(await timed(PASSWORD, wrong_code))
    ratio = statistics.median(code_times) / statistics.median(password_times)
    assert 0.5 < ratio < 2.0, (password_times, code_times)


# --- roles that must use two factors ------------------------------------------------------


@pytest.fixture
def mfa_required(gateway_app: FastAPI) -> Iterator[None]:
    """The gateway as configured in production: admins and auditors must use two factors."""
    settings = gateway_app.state.settings
    gateway_app.state.settings = settings.model_copy(
        update={"mfa_required_roles": "platform_admin,county_admin,community_admin,security_officer,auditor"}
    )
    try:
        yield
    finally:
        gateway_app.state.settings = settings


async def test_required_role_without_two_factors_reaches_only_enrolment(
    gateway: httpx.AsyncClient, mfa_required: None, clock: time_machine.Traveller
) -> None:
    headers = await bearer(gateway, "county.admin")
    me = await gateway.get("/api/v1/auth/me", headers=headers)
    assert me.status_code == 200
    for method, path in (("GET", "/api/v1/staff"), ("GET", "/api/v1/audit"), ("GET", "/api/v1/clients")):
        blocked = await gateway.request(method, path, headers={**headers, "Accept-Language": "en"})
        assert blocked.status_code == 403, (path, blocked.text)
        assert blocked.json()["code"] == "mfa_enrollment_required"
    # A worker's role does not require it.
    worker = await bearer(gateway, "chaoyang.worker")
    assert (await gateway.get("/api/v1/auth/me", headers=worker)).status_code == 200

    secret, _ = await enrol(gateway, headers)
    # The restricted token stays restricted; signing in again with a code gives a full one.
    assert (await gateway.get("/api/v1/staff", headers=headers)).status_code == 403
    clock.shift(30)
    full = await bearer(gateway, "county.admin", otp=code_at(secret, utcnow()))
    assert (await gateway.get("/api/v1/staff", headers=full)).status_code == 200


async def test_refreshing_a_restricted_login_stays_restricted(gateway: httpx.AsyncClient, mfa_required: None) -> None:
    first = (await login(gateway, "county.auditor")).json()
    again = await gateway.post(TOKEN, data={"grant_type": "refresh_token", "refresh_token": first["refresh_token"]})
    assert again.status_code == 200
    headers = {"Authorization": f"Bearer {again.json()['access_token']}"}
    assert (await gateway.get("/api/v1/audit", headers=headers)).json()["code"] == "mfa_enrollment_required"


async def test_docs_take_a_pasted_token_and_the_token_operation_takes_otp(gateway: httpx.AsyncClient) -> None:
    """Swagger's OAuth2 password dialog cannot send a code: /docs offers a BearerToken box for a
    token got from the token operation, whose form has the otp field (README, "Two-factor sign-in")."""
    doc = (await gateway.get("/openapi.json")).json()
    assert doc["components"]["securitySchemes"]["BearerToken"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": doc["components"]["securitySchemes"]["BearerToken"]["description"],
    }
    form = doc["paths"]["/api/v1/auth/token"]["post"]["requestBody"]["content"]["application/x-www-form-urlencoded"]
    schema = doc["components"]["schemas"][form["schema"]["$ref"].rsplit("/", 1)[-1]]
    assert "otp" in schema["properties"]
    staff_op = doc["paths"]["/api/v1/staff"]["get"]
    assert {"BearerToken": []} in staff_op["security"] and {"OAuth2": []} in staff_op["security"]
