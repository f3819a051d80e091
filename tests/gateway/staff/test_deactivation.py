"""Deactivation, reactivation and reset (issue 19, part 4), and what a platform admin cannot read."""

from __future__ import annotations

import httpx
import time_machine

from doorstep_shared.auth.permissions import Permission, permissions_for_roles
from doorstep_shared.clock import utcnow

from ...support import Tokens
from .support import NEW_PASSWORD, PASSWORD, activate, bearer, sign_in

ACCESS_TTL = 900  # the gateway's default access_token_ttl


async def refresh(gateway: httpx.AsyncClient, token: str) -> httpx.Response:
    return await gateway.post("/api/v1/auth/token", data={"grant_type": "refresh_token", "refresh_token": token})


async def test_a_deactivated_workers_refresh_fails_immediately_and_their_access_token_stops_at_expiry(
    gateway: httpx.AsyncClient,
) -> None:
    start = utcnow()
    with time_machine.travel(start, tick=False) as traveller:
        tokens = (await sign_in(gateway, "chaoyang.worker")).json()
        other_login = (await sign_in(gateway, "chaoyang.worker")).json()  # a second device
        idle_login = (await sign_in(gateway, "chaoyang.worker")).json()  # a third, not used until the end
        worker = {"Authorization": f"Bearer {tokens['access_token']}"}
        admin = await bearer(gateway, "county.admin")
        resp = await gateway.post("/api/v1/staff/chaoyang.worker/deactivate", headers=admin)
        assert resp.status_code == 200 and resp.json()["active"] is False
        # Every refresh token, on every device, fails at once …
        for login in (tokens, other_login):
            refused = await refresh(gateway, login["refresh_token"])
            assert refused.status_code == 400 and refused.json()["error"] == "invalid_grant"
        # … sign-in is refused exactly like a wrong password (nothing tells the account exists) …
        disabled = await sign_in(gateway, "chaoyang.worker")
        wrong = await sign_in(gateway, "zhenhuai.worker", "not-the-password")
        assert disabled.status_code == wrong.status_code == 400
        assert disabled.json() == wrong.json() | {"instance": disabled.json().get("instance")}
        # … and the access token already out works until it expires, then stops.
        traveller.shift(ACCESS_TTL - 60)
        assert (await gateway.get("/api/v1/auth/me", headers=worker)).status_code == 200
        traveller.shift(120)
        expired = await gateway.get("/api/v1/auth/me", headers=worker)
        assert expired.status_code == 401 and expired.json()["code"] == "token_expired"
        # Reactivated, the worker signs in again with their own password.
        admin = await bearer(gateway, "county.admin")
        assert (await gateway.post("/api/v1/staff/chaoyang.worker/reactivate", headers=admin)).status_code == 200
        assert (await sign_in(gateway, "chaoyang.worker")).status_code == 200
        # The refresh tokens from before stay revoked: reactivation revives no old login.
        stale = await refresh(gateway, idle_login["refresh_token"])
        assert stale.status_code == 400 and "revoked" in stale.json()["error_description"]


async def test_an_admin_cannot_deactivate_their_own_account(gateway: httpx.AsyncClient) -> None:
    admin = await bearer(gateway, "county.admin")
    resp = await gateway.post("/api/v1/staff/county.admin/deactivate", headers=admin)
    assert resp.status_code == 409 and resp.json()["code"] == "own_account"


async def test_reset_ends_every_login_and_the_old_password_until_the_new_code_is_used(
    gateway: httpx.AsyncClient,
) -> None:
    tokens = (await sign_in(gateway, "zhenhuai.worker")).json()
    admin = await bearer(gateway, "zhenhuai.admin")
    reset = await gateway.post("/api/v1/staff/zhenhuai.worker/reset", headers=admin)
    assert reset.status_code == 200, reset.text
    code = reset.json()["activation_code"]
    assert reset.json()["password_set"] is False
    assert (await refresh(gateway, tokens["refresh_token"])).status_code == 400
    assert (await sign_in(gateway, "zhenhuai.worker", PASSWORD)).status_code == 400
    assert (await activate(gateway, "zhenhuai.worker", code)).status_code == 200
    assert (await sign_in(gateway, "zhenhuai.worker", NEW_PASSWORD)).status_code == 200
    assert (await sign_in(gateway, "zhenhuai.worker", PASSWORD)).status_code == 400


async def test_a_deactivated_account_cannot_be_activated_with_a_code_issued_before(gateway: httpx.AsyncClient) -> None:
    admin = await bearer(gateway, "chaoyang.admin")
    code = (await gateway.post("/api/v1/staff/chaoyang.worker/reset", headers=admin)).json()["activation_code"]
    await gateway.post("/api/v1/staff/chaoyang.worker/deactivate", headers=admin)
    assert (await activate(gateway, "chaoyang.worker", code)).json()["code"] == "activation_invalid"
    reset = await gateway.post("/api/v1/staff/chaoyang.worker/reset", headers=admin)
    assert reset.status_code == 409 and reset.json()["code"] == "account_inactive"


def test_the_platform_admin_holds_no_permission_to_read_residents_cases_figures_or_the_audit_log() -> None:
    granted = permissions_for_roles(frozenset({"platform_admin"}))
    assert granted == {Permission.STAFF_MANAGE, Permission.DIRECTORY_MANAGE}
    never = {
        Permission.RESIDENTS_READ,
        Permission.RESIDENTS_REVEAL,
        Permission.CASES_READ,
        Permission.DEMANDS_READ,
        Permission.LEADS_READ,
        Permission.FIGURES_READ,
        Permission.AUDIT_READ,
        Permission.USERS_READ,
        Permission.BOOKINGS_READ,
        Permission.TICKETS_READ,
    }
    assert not granted & never


async def test_the_platform_admin_gets_403_on_the_gateways_reads_of_a_county(
    gateway: httpx.AsyncClient, tokens: Tokens
) -> None:
    platform = await bearer(gateway, "platform.admin")
    me = (await gateway.get("/api/v1/auth/me", headers=platform)).json()
    assert me["roles"] == ["platform_admin"] and me["county"] is None and me["communities"] == []
    for path in ("/api/v1/audit", "/api/v1/directory/users", "/api/v1/reports/summary"):
        resp = await gateway.get(path, headers=platform)
        assert resp.status_code == 403, (path, resp.status_code)
