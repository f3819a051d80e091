"""Workers' field profiles and grid teams: who is a worker comes from the staff records (the
gateway's roster); the proxy's API changes only what the proxy owns (categories, availability)."""

from __future__ import annotations

import httpx

from doorstep_proxy.workers import service as workers
from doorstep_shared.staff_roster import StaffRecord, StaffRoster

from ...support import Tokens
from ..helpers import BASE, admin, app_of, enrol, worker


async def test_field_attributes_are_set_here_and_identity_is_not(proxy: httpx.AsyncClient, tokens: Tokens) -> None:
    await enrol(proxy, "chaoyang.g6b", "chaoyang-g6", display_name="宋雨萱")
    team = await proxy.get(f"{BASE}/grids/chaoyang-g6/team", headers=worker(tokens))
    assert [(w["username"], w["display_name"]) for w in team.json()["workers"]] == [("chaoyang.g6b", "宋雨萱")]
    read = await proxy.get(f"{BASE}/workers/chaoyang.g6b", headers=worker(tokens))
    body = {"categories": ["disability", "elderly"], "status": "on_leave"}
    leave = await proxy.put(
        f"{BASE}/workers/chaoyang.g6b", json=body, headers={**admin(tokens), "If-Match": read.headers["ETag"]}
    )
    assert leave.status_code == 200, leave.text
    assert (leave.json()["status"], leave.json()["categories"], leave.json()["grids"]) == (
        "on_leave",
        ["disability", "elderly"],
        ["chaoyang-g6"],
    )
    stale = await proxy.put(
        f"{BASE}/workers/chaoyang.g6b", json=body, headers={**admin(tokens), "If-Match": read.headers["ETag"]}
    )
    assert stale.status_code == 412
    # No second place to add a worker, nor to move one: unknown usernames are 404, and the
    # name, community and grids are not fields of the body any more.
    unknown = await proxy.put(f"{BASE}/workers/chaoyang.newcomer", json=body, headers=admin(tokens))
    assert unknown.status_code == 404 and unknown.json()["code"] == "worker_not_found"
    for field, value in (("grids", ["chaoyang-g1"]), ("community", "chaoyang"), ("display_name", "x")):
        refused = await proxy.put(f"{BASE}/workers/chaoyang.g6b", json={**body, field: value}, headers=admin(tokens))
        assert refused.status_code == 422, field
    assert (await proxy.put(f"{BASE}/workers/chaoyang.g6b", json=body, headers=worker(tokens))).status_code == 403
    # Another community's worker is not there for this admin.
    await enrol(proxy, "zhenhuai.g7b", "zhenhuai-g7", "zhenhuai")
    assert (await proxy.put(f"{BASE}/workers/zhenhuai.g7b", json=body, headers=admin(tokens))).status_code == 404
    assert (await proxy.get(f"{BASE}/grids/zhenhuai-g7/team", headers=worker(tokens))).status_code == 404
    listed = await proxy.get(f"{BASE}/workers", params={"status": "on_leave"}, headers=worker(tokens))
    assert [w["username"] for w in listed.json()["items"]] == ["chaoyang.g6b"]


async def test_following_the_roster_moves_teams_and_retires_whoever_it_no_longer_names(
    proxy: httpx.AsyncClient, tokens: Tokens
) -> None:
    def record(username: str, grid: str, *, active: bool = True, name: str = "何静") -> StaffRecord:
        return StaffRecord(username, name, ("social_worker",), "hexian", "chaoyang", grid, (), active)

    async def follow(*records: StaffRecord) -> workers.RosterApplied:
        async with app_of(proxy).state.sessionmaker() as session:
            applied = await workers.follow_roster(session, StaffRoster.of(records))
            await session.commit()
        return applied

    async def team(grid: str) -> list[str]:
        resp = await proxy.get(f"{BASE}/grids/{grid}/team", headers=worker(tokens))
        return [w["username"] for w in resp.json()["workers"]]

    async def status(username: str) -> str:
        return str((await proxy.get(f"{BASE}/workers/{username}", headers=worker(tokens))).json()["status"])

    applied = await follow(record("chaoyang.a", "chaoyang-g1"), record("chaoyang.b", "chaoyang-g1"))
    assert applied.added == ["chaoyang.a", "chaoyang.b"]
    assert await team("chaoyang-g1") == ["chaoyang.a", "chaoyang.b"]
    read = await proxy.get(f"{BASE}/workers/chaoyang.a", headers=worker(tokens))
    put = await proxy.put(
        f"{BASE}/workers/chaoyang.a", json={"categories": ["elderly"], "status": "on_leave"}, headers=admin(tokens)
    )
    assert put.status_code == 200
    # The same roster again changes nothing.
    assert await follow(record("chaoyang.a", "chaoyang-g1"), record("chaoyang.b", "chaoyang-g1")) == (
        workers.RosterApplied()
    )
    # A grid changed at the gateway: the team moves; what the proxy owns stays.
    applied = await follow(record("chaoyang.a", "chaoyang-g4", name="何静怡"), record("chaoyang.b", "chaoyang-g1"))
    assert applied.changed == ["chaoyang.a"]
    assert (await team("chaoyang-g1"), await team("chaoyang-g4")) == (["chaoyang.b"], ["chaoyang.a"])
    moved = (await proxy.get(f"{BASE}/workers/chaoyang.a", headers=worker(tokens))).json()
    assert (moved["display_name"], moved["categories"], moved["status"]) == ("何静怡", ["elderly"], "on_leave")
    assert moved["version"] > read.json()["version"]
    # Deactivated: inactive, on no team, and the proxy's API cannot bring them back.
    await follow(record("chaoyang.a", "chaoyang-g4", active=False), record("chaoyang.b", "chaoyang-g1"))
    assert (await status("chaoyang.a"), await team("chaoyang-g4")) == ("inactive", [])
    back = await proxy.put(f"{BASE}/workers/chaoyang.a", json={"status": "active"}, headers=admin(tokens))
    assert back.status_code == 409 and back.json()["code"] == "worker_inactive"
    listed = await proxy.get(f"{BASE}/workers", params={"status": "inactive"}, headers=worker(tokens))
    assert [w["username"] for w in listed.json()["items"]] == ["chaoyang.a"]
    # Reactivated: available again, on the record's team. Gone from the roster: retired.
    applied = await follow(record("chaoyang.a", "chaoyang-g4"))
    assert applied.retired == ["chaoyang.b"]
    assert (await status("chaoyang.a"), await team("chaoyang-g4")) == ("active", ["chaoyang.a"])
    assert (await status("chaoyang.b"), await team("chaoyang-g1")) == ("inactive", [])
