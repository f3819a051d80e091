"""Audit export and login histories (issue 20, part 5): the auditor exports the gateway's audit
log as signed JSON Lines that anyone with the JWKS can check; a person reads their own login
history, the auditor anyone's; nobody else does either."""

from __future__ import annotations

import hashlib
import itertools
import json

import httpx
import jwt
import pytest

PASSWORD = "doorstep-demo"


async def sign_in(client: httpx.AsyncClient, username: str, password: str = PASSWORD) -> httpx.Response:
    return await client.post(
        "/api/v1/auth/token", data={"grant_type": "password", "username": username, "password": password}
    )


async def bearer(client: httpx.AsyncClient, username: str) -> dict[str, str]:
    resp = await sign_in(client, username)
    assert resp.status_code == 200, resp.text
    return {"Authorization": f"Bearer {resp.json()['access_token']}"}


async def check_export(client: httpx.AsyncClient, body: bytes) -> tuple[list[dict[str, object]], dict[str, object]]:
    """What README "Audit export" tells an archivist to do: split off the last line, verify its
    JWS with the gateway's published key, compare the SHA-256 of everything before it."""
    content, _, last = body.rstrip(b"\n").rpartition(b"\n")
    content = content + b"\n" if content else b""
    token = json.loads(last)["signature"]
    kid = jwt.get_unverified_header(token)["kid"]
    jwks = (await client.get("/.well-known/jwks.json")).json()
    key = jwt.PyJWK(next(k for k in jwks["keys"] if k["kid"] == kid)).key
    claims = jwt.decode(token, key, algorithms=["RS256"])
    assert claims["sha256"] == hashlib.sha256(content).hexdigest()
    entries = [json.loads(line) for line in content.splitlines()]
    assert claims["entries"] == len(entries)
    return entries, claims


async def test_the_auditor_exports_signed_json_lines_that_verify(gateway: httpx.AsyncClient) -> None:
    await sign_in(gateway, "chaoyang.worker", "wrong-password")
    await sign_in(gateway, "chaoyang.worker")
    auditor = await bearer(gateway, "county.auditor")
    resp = await gateway.get("/api/v1/audit/export", headers=auditor)
    assert resp.status_code == 200, resp.text
    assert resp.headers["content-type"].startswith("application/jsonl")
    entries, claims = await check_export(gateway, resp.content)
    assert claims["exported_by"] == "county.auditor" and claims["first_id"] == entries[0]["id"]
    logins = [(e["subject_id"], e["outcome"]) for e in entries if e["action"] == "login"]
    assert ("chaoyang.worker", "failure") in logins and ("chaoyang.worker", "success") in logins
    # Chain fields come along, linked: an archive can be re-checked against the chain.
    assert all(b["prev_hash"] == a["hash"] for a, b in itertools.pairwise(entries))
    # The export is itself in the log.
    again = await gateway.get("/api/v1/audit/export", headers=auditor)
    assert any(e["action"] == "audit.exported" for e in (await check_export(gateway, again.content))[0])


async def test_an_edited_export_fails_the_check(gateway: httpx.AsyncClient) -> None:
    await sign_in(gateway, "chaoyang.worker")
    body = (await gateway.get("/api/v1/audit/export", headers=await bearer(gateway, "county.auditor"))).content
    edited = body.replace(b'"outcome":"success"', b'"outcome":"failure"', 1)
    assert edited != body
    with pytest.raises(AssertionError):
        await check_export(gateway, edited)


async def test_a_window_exports_only_its_entries(gateway: httpx.AsyncClient) -> None:
    await sign_in(gateway, "chaoyang.worker")
    auditor = await bearer(gateway, "county.auditor")
    resp = await gateway.get("/api/v1/audit/export", params={"until": "2000-01-01T00:00:00Z"}, headers=auditor)
    entries, claims = await check_export(gateway, resp.content)
    assert entries == [] and claims["entries"] == 0 and claims["until"].startswith("2000-01-01")


@pytest.mark.parametrize("username", ["county.admin", "county.security", "chaoyang.worker"])
async def test_only_the_auditor_exports(gateway: httpx.AsyncClient, username: str) -> None:
    resp = await gateway.get("/api/v1/audit/export", headers=await bearer(gateway, username))
    assert resp.status_code == 403


async def test_my_login_history_and_the_auditors_view_of_it(gateway: httpx.AsyncClient) -> None:
    await sign_in(gateway, "chaoyang.worker", "wrong-password")
    worker = await bearer(gateway, "chaoyang.worker")
    await sign_in(gateway, "zhenhuai.worker")
    mine = await gateway.get("/api/v1/auth/logins", headers=worker)
    assert mine.status_code == 200, mine.text
    items = mine.json()["items"]
    assert [(i["outcome"], i["reason"]) for i in items] == [("success", None), ("failure", "bad_password")]
    assert items[0]["second_factor"] == "none" and items[0]["address"]
    auditor = await bearer(gateway, "county.auditor")
    seen = await gateway.get("/api/v1/audit/logins/chaoyang.worker", headers=auditor)
    assert seen.json()["items"] == items
    # Paged, newest first.
    first = (await gateway.get("/api/v1/auth/logins", params={"limit": 1}, headers=worker)).json()
    second = await gateway.get(
        "/api/v1/auth/logins", params={"limit": 1, "cursor": first["next_cursor"]}, headers=worker
    )
    assert [i["id"] for i in first["items"] + second.json()["items"]] == [i["id"] for i in items]
    # Another person's history is the auditor's only (not even an admin's).
    admin = await bearer(gateway, "chaoyang.admin")
    assert (await gateway.get("/api/v1/audit/logins/chaoyang.worker", headers=admin)).status_code == 403
