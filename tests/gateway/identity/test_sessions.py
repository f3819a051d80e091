"""Sessions people can see and end (issue 20, part 2): each refresh family is a session with its
device labels, first and last seen and address; its holder lists and ends them, signs out
everywhere; an admin ends a staff member's session (a lost phone) within their scope."""

from __future__ import annotations

import httpx

PASSWORD = "doorstep-demo"
TOKEN = "/api/v1/auth/token"


async def sign_in(client: httpx.AsyncClient, username: str, device: str | None = None) -> dict[str, str]:
    data = {"grant_type": "password", "username": username, "password": PASSWORD}
    if device:
        data |= {"device_id": f"id-{device}", "device_name": device}
    resp = await client.post(TOKEN, data=data)
    assert resp.status_code == 200, resp.text
    return dict(resp.json())


def auth(tokens: dict[str, str]) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens['access_token']}", "Accept-Language": "en"}


async def refresh(client: httpx.AsyncClient, tokens: dict[str, str]) -> httpx.Response:
    return await client.post(TOKEN, data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]})


async def test_a_worker_sees_each_device_signed_in_and_which_one_is_asking(gateway: httpx.AsyncClient) -> None:
    phone = await sign_in(gateway, "chaoyang.worker", "工作手机")
    laptop = await sign_in(gateway, "chaoyang.worker", "办公电脑")
    await sign_in(gateway, "zhenhuai.worker", "其他人")
    listed = await gateway.get("/api/v1/auth/sessions", headers=auth(laptop))
    assert listed.status_code == 200, listed.text
    sessions = listed.json()
    assert sorted(s["device_name"] for s in sessions) == ["办公电脑", "工作手机"]  # another's are not here
    current = [s for s in sessions if s["current"]]
    assert [s["device_name"] for s in current] == ["办公电脑"]
    one = sessions[0]
    assert one["first_address"] and one["last_address"] and one["created_at"] and one["last_seen_at"]
    # A refresh moves "last seen" and keeps the session (same id).
    before = {s["id"]: s["last_seen_at"] for s in sessions}
    rotated = await refresh(gateway, phone)
    assert rotated.status_code == 200
    after = (await gateway.get("/api/v1/auth/sessions", headers=auth(rotated.json()))).json()
    assert {s["id"] for s in after} == set(before)
    assert [s["device_name"] for s in after if s["current"]] == ["工作手机"]


async def test_ending_my_session_stops_its_refresh_at_once(gateway: httpx.AsyncClient) -> None:
    phone = await sign_in(gateway, "chaoyang.worker", "工作手机")
    laptop = await sign_in(gateway, "chaoyang.worker", "办公电脑")
    sessions = (await gateway.get("/api/v1/auth/sessions", headers=auth(laptop))).json()
    phone_id = next(s["id"] for s in sessions if s["device_name"] == "工作手机")
    ended = await gateway.delete(f"/api/v1/auth/sessions/{phone_id}", headers=auth(laptop))
    assert ended.status_code == 204, ended.text
    assert (await refresh(gateway, phone)).status_code == 400
    assert (await refresh(gateway, laptop)).status_code == 200
    # Gone from the list; ending it again, or someone else's, is a 404.
    left = (await gateway.get("/api/v1/auth/sessions", headers=auth(laptop))).json()
    assert phone_id not in {s["id"] for s in left}
    assert (await gateway.delete(f"/api/v1/auth/sessions/{phone_id}", headers=auth(laptop))).status_code == 404
    other = await sign_in(gateway, "zhenhuai.worker", "别人的")
    other_id = (await gateway.get("/api/v1/auth/sessions", headers=auth(other))).json()[0]["id"]
    assert (await gateway.delete(f"/api/v1/auth/sessions/{other_id}", headers=auth(laptop))).status_code == 404
    assert (await refresh(gateway, other)).status_code == 200


async def test_sign_out_everywhere_optionally_keeping_this_session(gateway: httpx.AsyncClient) -> None:
    devices = [await sign_in(gateway, "chaoyang.worker", name) for name in ("a", "b", "c")]
    kept = await gateway.post("/api/v1/auth/sessions/revoke-all", json={"keep_current": True}, headers=auth(devices[0]))
    assert kept.status_code == 200 and kept.json() == {"ended": 2}
    assert [(await refresh(gateway, d)).status_code for d in devices] == [200, 400, 400]
    mine = await sign_in(gateway, "chaoyang.worker", "d")
    everywhere = await gateway.post("/api/v1/auth/sessions/revoke-all", json={}, headers=auth(mine))
    assert everywhere.json() == {"ended": 2}
    assert (await refresh(gateway, mine)).status_code == 400


async def test_an_admin_ends_a_lost_phone_within_their_scope(gateway: httpx.AsyncClient) -> None:
    phone = await sign_in(gateway, "chaoyang.worker", "丢失的手机")
    admin = auth(await sign_in(gateway, "chaoyang.admin"))
    listed = await gateway.get("/api/v1/staff/chaoyang.worker/sessions", headers=admin)
    assert listed.status_code == 200, listed.text
    [lost] = listed.json()
    assert lost["device_name"] == "丢失的手机" and lost["current"] is False
    # Another community's admin does not see the account at all.
    other = auth(await sign_in(gateway, "zhenhuai.admin"))
    assert (await gateway.get("/api/v1/staff/chaoyang.worker/sessions", headers=other)).status_code == 404
    assert (
        await gateway.delete(f"/api/v1/staff/chaoyang.worker/sessions/{lost['id']}", headers=other)
    ).status_code == 404
    # A worker cannot manage anyone's sessions.
    worker = auth(await sign_in(gateway, "zhenhuai.worker"))
    assert (await gateway.get("/api/v1/staff/chaoyang.worker/sessions", headers=worker)).status_code == 403

    ended = await gateway.delete(f"/api/v1/staff/chaoyang.worker/sessions/{lost['id']}", headers=admin)
    assert ended.status_code == 204, ended.text
    assert (await refresh(gateway, phone)).status_code == 400
    # The phone's access token lives until it expires (≤ 15 minutes): tokens are not revocable one by one.
    assert (await gateway.get("/api/v1/auth/me", headers=auth(phone))).status_code == 200
    assert (await gateway.get("/api/v1/staff/chaoyang.worker/sessions", headers=admin)).json() == []
    log = await gateway.get(
        "/api/v1/audit",
        params={"action": "session.ended"},
        headers=auth(await sign_in(gateway, "county.auditor")),
    )
    assert [(e["actor"], e["subject_id"]) for e in log.json()["items"]] == [("chaoyang.admin", "chaoyang.worker")]


async def test_deactivation_ends_every_session(gateway: httpx.AsyncClient) -> None:
    await sign_in(gateway, "chaoyang.worker", "a")
    admin = auth(await sign_in(gateway, "chaoyang.admin"))
    assert (await gateway.post("/api/v1/staff/chaoyang.worker/deactivate", headers=admin)).status_code == 200
    assert (await gateway.get("/api/v1/staff/chaoyang.worker/sessions", headers=admin)).json() == []


async def test_machine_clients_have_no_sessions(gateway: httpx.AsyncClient) -> None:
    token = await gateway.post(
        TOKEN, data={"grant_type": "client_credentials", "client_id": "demo.platform", "client_secret": PASSWORD}
    )
    headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
    resp = await gateway.get("/api/v1/auth/sessions", headers=headers)
    assert resp.status_code == 403 and resp.json()["code"] == "staff_only"
