"""A field worker's lost phone, over real processes (issue 20, part 2): the worker signed in on the
phone; their community admin finds that session and ends it; the phone's next refresh fails at
once, while the access token it already holds keeps working at the services until it expires
(at most 15 minutes: access tokens are not revocable one by one)."""

from __future__ import annotations

import base64
import json

import httpx
import pytest

from .conftest import PASSWORD, System, login

pytestmark = pytest.mark.dates


def test_an_admin_ends_a_lost_phones_session_and_its_next_refresh_fails(system: System) -> None:
    gw = system.url()
    signed_in = httpx.post(
        f"{gw}/api/v1/auth/token",
        data={
            "grant_type": "password",
            "username": "chaoyang.worker",
            "password": PASSWORD,
            "device_id": "phone-7f3a",
            "device_name": "工作手机",
        },
        timeout=10,
    )
    assert signed_in.status_code == 200, signed_in.text
    phone = signed_in.json()
    phone_headers = {"Authorization": f"Bearer {phone['access_token']}"}
    # The phone works at a service (the proxy checks the token itself).
    assert (
        httpx.get(f"{gw}/api/v1/proxy/cases", params={"limit": 1}, headers=phone_headers, timeout=30).status_code == 200
    )

    admin = {"Authorization": f"Bearer {login(system, 'chaoyang.admin')}"}
    sessions = httpx.get(f"{gw}/api/v1/staff/chaoyang.worker/sessions", headers=admin, timeout=10)
    assert sessions.status_code == 200, sessions.text
    lost = next(s for s in sessions.json() if s["device_id"] == "phone-7f3a")
    assert lost["device_name"] == "工作手机" and lost["last_address"]
    ended = httpx.delete(f"{gw}/api/v1/staff/chaoyang.worker/sessions/{lost['id']}", headers=admin, timeout=10)
    assert ended.status_code == 204, ended.text

    # At once: the phone cannot renew (RFC 6749 invalid_grant).
    renewed = httpx.post(
        f"{gw}/api/v1/auth/token",
        data={"grant_type": "refresh_token", "refresh_token": phone["refresh_token"]},
        timeout=10,
    )
    assert renewed.status_code == 400 and renewed.json()["error"] == "invalid_grant", renewed.text
    # Its access token lives on until it expires, no later than 15 minutes after it was issued.
    assert (
        httpx.get(f"{gw}/api/v1/proxy/cases", params={"limit": 1}, headers=phone_headers, timeout=30).status_code == 200
    )
    payload = phone["access_token"].split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    assert claims["exp"] - claims["iat"] <= 15 * 60 and phone["expires_in"] <= 15 * 60
    # The session is gone from the worker's own list too.
    worker = {"Authorization": f"Bearer {login(system, 'chaoyang.worker')}"}
    mine = httpx.get(f"{gw}/api/v1/auth/sessions", headers=worker, timeout=10).json()
    assert lost["id"] not in {s["id"] for s in mine}
