from __future__ import annotations

import httpx

from ...support import Tokens
from ..helpers import BASE, admin, worker


async def test_worker_profiles_and_grid_team(proxy: httpx.AsyncClient, tokens: Tokens) -> None:
    body = {
        "display_name": "宋雨萱",
        "grids": ["chaoyang-g6"],
        "categories": ["disability", "elderly"],
    }
    created = await proxy.put(f"{BASE}/workers/chaoyang.g6b", json=body, headers=admin(tokens))
    assert created.status_code == 201, created.text
    assert created.json()["community"] == "chaoyang"
    team = await proxy.get(f"{BASE}/grids/chaoyang-g6/team", headers=worker(tokens))
    assert [w["username"] for w in team.json()["workers"]] == ["chaoyang.g6b"]
    leave = await proxy.put(
        f"{BASE}/workers/chaoyang.g6b",
        json={**body, "status": "on_leave"},
        headers={**admin(tokens), "If-Match": created.headers["ETag"]},
    )
    assert leave.status_code == 200 and leave.json()["status"] == "on_leave"
    stale = await proxy.put(
        f"{BASE}/workers/chaoyang.g6b",
        json=body,
        headers={**admin(tokens), "If-Match": created.headers["ETag"]},
    )
    assert stale.status_code == 412
    wrong_grid = await proxy.put(f"{BASE}/workers/x.y", json={**body, "grids": ["zhenhuai-g7"]}, headers=admin(tokens))
    assert wrong_grid.status_code == 422
    assert (await proxy.put(f"{BASE}/workers/x.y", json=body, headers=worker(tokens))).status_code == 403
    assert (await proxy.get(f"{BASE}/grids/zhenhuai-g7/team", headers=worker(tokens))).status_code == 404
    listed = await proxy.get(f"{BASE}/workers", params={"status": "on_leave"}, headers=worker(tokens))
    assert [w["username"] for w in listed.json()["items"]] == ["chaoyang.g6b"]
