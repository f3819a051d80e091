"""Policies per role (issue 20, part 3), with a travelled clock: a session's lifetime and idle
timeout come from the strictest of the account's roles (an admin's browser short, a field
worker's phone long); an account unused for DORMANT_ACCOUNT_DAYS is locked at its next sign-in."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
import pytest
import time_machine

from doorstep_shared.clock import utcnow

PASSWORD = "doorstep-demo"
TOKEN = "/api/v1/auth/token"


async def sign_in(client: httpx.AsyncClient, username: str) -> httpx.Response:
    return await client.post(TOKEN, data={"grant_type": "password", "username": username, "password": PASSWORD})


async def refresh(client: httpx.AsyncClient, token: str) -> httpx.Response:
    return await client.post(TOKEN, data={"grant_type": "refresh_token", "refresh_token": token})


async def test_an_admins_session_ends_when_idle_or_at_its_lifetime_a_workers_lasts(
    gateway: httpx.AsyncClient, configure: Any
) -> None:
    configure(session_policies="county_admin:3600:600,social_worker:2592000:604800")
    with time_machine.travel(utcnow(), tick=False) as clock:
        admin = (await sign_in(gateway, "county.admin")).json()
        worker = (await sign_in(gateway, "chaoyang.worker")).json()
        clock.shift(dt.timedelta(minutes=11))  # past the admin's 10-minute idle timeout
        assert (await refresh(gateway, admin["refresh_token"])).status_code == 400
        worker_again = await refresh(gateway, worker["refresh_token"])
        assert worker_again.status_code == 200  # a phone may sit unused for days
        # In use every 9 minutes, the admin's session still ends an hour after sign-in.
        token = (await sign_in(gateway, "county.admin")).json()["refresh_token"]
        for _ in range(6):
            clock.shift(dt.timedelta(minutes=9))
            renewed = await refresh(gateway, token)
            assert renewed.status_code == 200, renewed.text
            token = renewed.json()["refresh_token"]
        clock.shift(dt.timedelta(minutes=7))  # 61 minutes after sign-in
        ended = await refresh(gateway, token)
        # (its last refresh token was issued to expire at the lifetime, not 10 minutes on)
        assert ended.status_code == 400 and ended.json()["error"] == "invalid_grant"
        # The worker's phone, unused for six days, still renews; past seven it does not.
        clock.shift(dt.timedelta(days=6))
        later = await refresh(gateway, worker_again.json()["refresh_token"])
        assert later.status_code == 200
        clock.shift(dt.timedelta(days=7, minutes=1))
        assert (await refresh(gateway, later.json()["refresh_token"])).status_code == 400


async def test_roles_without_a_policy_keep_the_refresh_token_ttl(gateway: httpx.AsyncClient, configure: Any) -> None:
    configure(session_policies="county_admin:3600:600")
    with time_machine.travel(utcnow(), tick=False) as clock:
        worker = (await sign_in(gateway, "chaoyang.worker")).json()
        clock.shift(dt.timedelta(days=13))
        assert (await refresh(gateway, worker["refresh_token"])).status_code == 200


async def test_an_account_unused_for_n_days_is_locked_until_an_admin_reactivates_it(
    gateway: httpx.AsyncClient, configure: Any
) -> None:
    configure(dormant_account_days=30)
    with time_machine.travel(utcnow(), tick=False) as clock:
        assert (await sign_in(gateway, "chaoyang.worker")).status_code == 200
        clock.shift(dt.timedelta(days=29))
        assert (await sign_in(gateway, "chaoyang.admin")).status_code == 200  # in use: stays open
        clock.shift(dt.timedelta(days=2))  # the worker: 31 days unused
        locked = await sign_in(gateway, "chaoyang.worker")
        assert locked.status_code == 400 and locked.json()["error"] == "invalid_grant"
        admin_login = await sign_in(gateway, "chaoyang.admin")
        assert admin_login.status_code == 200, admin_login.text
        admin = {"Authorization": f"Bearer {admin_login.json()['access_token']}"}
        account = (await gateway.get("/api/v1/staff/chaoyang.worker", headers=admin)).json()
        assert account["active"] is False
        clock.shift(dt.timedelta(seconds=5))  # past the throttle's wait
        assert (await gateway.post("/api/v1/staff/chaoyang.worker/reactivate", headers=admin)).status_code == 200
        back = await sign_in(gateway, "chaoyang.worker")
        assert back.status_code == 200, back.text
        mine = {"Authorization": f"Bearer {back.json()['access_token']}"}
        history = (await gateway.get("/api/v1/auth/logins", headers=mine)).json()["items"]
        assert [i["reason"] for i in history][:2] == [None, "dormant"]


async def test_a_malformed_policy_is_refused_at_start_up() -> None:
    from doorstep_gateway.config import GatewaySettings

    with pytest.raises(ValueError, match="SESSION_POLICIES"):
        GatewaySettings(environment="test", session_policies="county_admin:30")
    with pytest.raises(ValueError, match="at least 60"):
        GatewaySettings(environment="test", session_policies="county_admin:30:30")
