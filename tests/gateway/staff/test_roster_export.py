"""The staff roster export the services follow: services only, identity attributes only, with an
ETag (issue 19, part 4)."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from doorstep_shared.auth.permissions import CLIENT_SCOPES
from doorstep_shared.auth.service_keys import ServiceCredentials, dev_service_key

from ...support import Tokens
from .support import bearer, new_worker

EXPORT = "/api/v1/roster/export"


def service(app: FastAPI, name: str) -> dict[str, str]:
    key = dev_service_key(app.state.settings.service_keys_dir, name)
    return {"Authorization": f"Bearer {ServiceCredentials(key).token('gateway')}"}


async def test_only_the_services_read_the_roster_and_it_names_field_staff_without_phones(
    gateway: httpx.AsyncClient, gateway_app: FastAPI, tokens: Tokens
) -> None:
    assert (await gateway.get(EXPORT)).status_code == 401
    assert (await gateway.get(EXPORT, headers=await bearer(gateway, "county.admin"))).status_code == 403
    client = tokens.headers(None, kind="client", scopes=tuple(sorted(CLIENT_SCOPES)))
    assert (await gateway.get(EXPORT, headers=client)).status_code == 403
    assert (await gateway.get(EXPORT, headers=service(gateway_app, "catalog"))).status_code == 403  # no grant

    proxy = service(gateway_app, "proxy")
    first = await gateway.get(EXPORT, headers=proxy)
    assert first.status_code == 200, first.text
    staff = {s["username"]: s for s in first.json()["staff"]}
    assert staff["chaoyang.worker"] == {
        "username": "chaoyang.worker",
        "display_name": "陈雨欣",
        "roles": ["social_worker"],
        "county": "hexian",
        "community": "chaoyang",
        "grid": "chaoyang-g6",
        "stations": [],
        "active": True,
    }
    assert staff["shuxiang.keeper"]["stations"] == ["shuxiang"]
    assert not {"county.admin", "chaoyang.admin", "county.auditor", "platform.admin"} & set(staff)
    etag = first.headers["ETag"]
    assert etag.removeprefix("W/") == f'"{first.json()["revision"]}"'  # weak once compressed
    assert (await gateway.get(EXPORT, headers={**proxy, "If-None-Match": etag})).status_code == 304

    made = await gateway.post("/api/v1/staff", json=new_worker(), headers=await bearer(gateway, "county.admin"))
    assert made.status_code == 201
    changed = await gateway.get(EXPORT, headers={**service(gateway_app, "stations"), "If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    assert "13812345678" not in changed.text and "138****5678" not in changed.text
    assert "chaoyang.newbie" in [s["username"] for s in changed.json()["staff"]]
