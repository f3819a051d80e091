from __future__ import annotations

import asyncio

import httpx
import pytest

from ...support import Tokens

pytestmark = pytest.mark.dates

PASSWORD = "doorstep-demo"


async def login(client: httpx.AsyncClient, username: str, password: str = PASSWORD) -> httpx.Response:
    return await client.post(
        "/api/v1/auth/token",
        data={"grant_type": "password", "username": username, "password": password},
    )


async def test_password_grant_issues_tokens_that_me_understands(gateway: httpx.AsyncClient) -> None:
    resp = await login(gateway, "chaoyang.worker")
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["token_type"] == "bearer" and body["expires_in"] > 0 and body["refresh_token"]
    me = await gateway.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200
    data = me.json()
    assert data["subject"] == "chaoyang.worker"
    assert data["roles"] == ["social_worker"]
    assert data["community"] == "chaoyang" and data["grid"] == "chaoyang-g6"
    assert "residents:reveal" in data["permissions"]


async def test_wrong_password_and_unknown_user_get_the_same_answer(
    gateway: httpx.AsyncClient,
) -> None:
    wrong = await login(gateway, "chaoyang.worker", "nope")
    unknown = await login(gateway, "nobody.here", "nope")
    assert wrong.status_code == unknown.status_code == 400
    assert wrong.headers["content-type"] == "application/problem+json"
    assert wrong.json()["error"] == unknown.json()["error"] == "invalid_grant"
    assert wrong.json()["detail"] == unknown.json()["detail"]


async def test_refresh_rotates_and_a_reused_refresh_token_revokes_the_family(
    gateway: httpx.AsyncClient,
) -> None:
    first = (await login(gateway, "chaoyang.admin")).json()
    rotated = await gateway.post(
        "/api/v1/auth/token",
        data={"grant_type": "refresh_token", "refresh_token": first["refresh_token"]},
    )
    assert rotated.status_code == 200, rotated.text
    second = rotated.json()
    assert second["refresh_token"] != first["refresh_token"]
    reuse = await gateway.post(
        "/api/v1/auth/token",
        data={"grant_type": "refresh_token", "refresh_token": first["refresh_token"]},
    )
    assert reuse.status_code == 400
    assert "already used" in reuse.json()["error_description"]
    # The family is gone: even the newest refresh token no longer works.
    after = await gateway.post(
        "/api/v1/auth/token",
        data={"grant_type": "refresh_token", "refresh_token": second["refresh_token"]},
    )
    assert after.status_code == 400


async def test_concurrent_use_of_one_refresh_token_succeeds_at_most_once(
    gateway: httpx.AsyncClient,
) -> None:
    first = (await login(gateway, "chaoyang.admin")).json()
    data = {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]}
    results = await asyncio.gather(*(gateway.post("/api/v1/auth/token", data=data) for _ in range(5)))
    assert sum(r.status_code == 200 for r in results) <= 1
    assert all(r.status_code in (200, 400) for r in results)


async def test_revoke_ends_the_login(gateway: httpx.AsyncClient) -> None:
    first = (await login(gateway, "county.admin")).json()
    assert (await gateway.post("/api/v1/auth/revoke", data={"token": first["refresh_token"]})).status_code == 200
    again = await gateway.post(
        "/api/v1/auth/token",
        data={"grant_type": "refresh_token", "refresh_token": first["refresh_token"]},
    )
    assert again.status_code == 400


async def test_refresh_token_is_not_an_access_token(gateway: httpx.AsyncClient) -> None:
    first = (await login(gateway, "county.admin")).json()
    me = await gateway.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {first['refresh_token']}"})
    assert me.status_code == 401
    assert me.json()["code"] == "wrong_token_type"


async def test_client_credentials_grant_gives_a_scoped_client_token(
    gateway: httpx.AsyncClient,
) -> None:
    resp = await gateway.post(
        "/api/v1/auth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": "demo.platform",
            "client_secret": PASSWORD,
            "scope": "demands:write",
        },
    )
    assert resp.status_code == 200, resp.text
    assert resp.json()["scope"] == "demands:write"
    me = (
        await gateway.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {resp.json()['access_token']}"})
    ).json()
    assert me["kind"] == "client" and me["permissions"] == ["demands:write"]
    bad = await gateway.post(
        "/api/v1/auth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": "demo.platform",
            "client_secret": "x",
        },
    )
    assert bad.status_code == 401
    wider = await gateway.post(
        "/api/v1/auth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": "demo.platform",
            "client_secret": PASSWORD,
            "scope": "residents:read",
        },
    )
    assert wider.status_code == 400 and wider.json()["error"] == "invalid_scope"


async def test_unknown_grant_type_is_a_clear_400(gateway: httpx.AsyncClient) -> None:
    resp = await gateway.post("/api/v1/auth/token", data={"grant_type": "implicit"})
    assert resp.status_code == 400
    assert resp.json()["error"] == "unsupported_grant_type"


async def test_jwks_publishes_the_signing_key(gateway: httpx.AsyncClient, tokens: Tokens) -> None:
    jwks = (await gateway.get("/.well-known/jwks.json")).json()
    assert [k["kid"] for k in jwks["keys"]] == [tokens.key.kid]
    assert jwks["keys"][0]["alg"] == "RS256" and "d" not in jwks["keys"][0]


async def test_directory_lists_fourteen_communities_with_grids(gateway: httpx.AsyncClient, tokens: Tokens) -> None:
    resp = await gateway.get("/api/v1/directory/communities", headers=tokens.headers("social_worker"))
    assert resp.status_code == 200
    communities = {c["code"]: c for c in resp.json()}
    assert len(communities) == 14
    assert communities["chaoyang"]["name"] == "朝阳社区"
    assert "第六网格" in [g["name"] for g in communities["chaoyang"]["grids"]]


async def test_users_are_scoped_to_the_admins_community(gateway: httpx.AsyncClient, tokens: Tokens) -> None:
    resp = await gateway.get("/api/v1/directory/users", headers=tokens.headers("community_admin", community="zhenhuai"))
    assert resp.status_code == 200
    assert {u["community"] for u in resp.json()} == {"zhenhuai"}
    denied = await gateway.get("/api/v1/directory/users", headers=tokens.headers("social_worker"))
    assert denied.status_code == 403
