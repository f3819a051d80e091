"""What the staff tests share: signing in as a demo login, creating and activating accounts."""

from __future__ import annotations

from typing import Any

import httpx

from doorstep_shared.auth.tokens import Principal

from ...support import Tokens

PASSWORD = "doorstep-demo"
NEW_PASSWORD = "梧桐-lantern-1987"


async def sign_in(client: httpx.AsyncClient, username: str, password: str = PASSWORD) -> httpx.Response:
    return await client.post(
        "/api/v1/auth/token", data={"grant_type": "password", "username": username, "password": password}
    )


async def bearer(client: httpx.AsyncClient, username: str, password: str = PASSWORD) -> dict[str, str]:
    resp = await sign_in(client, username, password)
    assert resp.status_code == 200, resp.text
    return {"Authorization": f"Bearer {resp.json()['access_token']}"}


def other_county_admin(tokens: Tokens, county: str = "otherxian") -> dict[str, str]:
    """A county admin of a county this deployment's demo is not (tokens carry the county)."""
    principal = Principal(
        subject=f"{county}.admin", kind="user", name="other", roles=frozenset({"county_admin"}), county=county
    )
    return {"Authorization": f"Bearer {tokens.signer.access_token(principal)[0]}"}


def new_worker(username: str = "chaoyang.newbie", **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "username": username,
        "display_name": "王新员",
        "phone": "13812345678",
        "roles": ["social_worker"],
        "community": "chaoyang",
        "grid": "chaoyang-g2",
    }
    return body | changes


async def activate(
    client: httpx.AsyncClient, username: str, code: str, password: str = NEW_PASSWORD, *, language: str = "zh"
) -> httpx.Response:
    return await client.post(
        "/api/v1/auth/activate",
        json={"username": username, "activation_code": code, "new_password": password},
        headers={"Accept-Language": language},
    )


def problem_fields(resp: httpx.Response) -> list[str]:
    return [e.get("field") or ".".join(map(str, e.get("loc", []))) for e in resp.json().get("errors", [])]
