"""The sync feed's scope: what a grid worker's phone carries, and how it follows reassignments
and a change of the worker's grids (additions and tombstones on the next delta)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from ...support import Tokens
from ..helpers import admin, worker
from .helpers import BASE, new_case, new_resident, profile

pytestmark = pytest.mark.dates

KEYS = ("compounds", "residents", "households", "cases", "visits", "demands", "tombstones")


async def _drain(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    since: str | None = None,
    *,
    scope: str | None = None,
    limit: int = 4,
) -> tuple[dict[str, list[Any]], str]:
    got: dict[str, list[Any]] = {k: [] for k in KEYS}
    cursor = since
    for _ in range(200):
        params: dict[str, Any] = {"limit": limit}
        if cursor:
            params["since"] = cursor
        if scope:
            params["scope"] = scope
        resp = await client.get(f"{BASE}/sync", params=params, headers=headers)
        assert resp.status_code == 200, resp.text
        page = resp.json()
        for key in KEYS:
            got[key] += page[key]
        cursor = page["cursor"]
        if not page["has_more"]:
            return got, cursor
    raise AssertionError("sync did not finish")


def _ids(got: dict[str, list[Any]], key: str) -> set[str]:
    return {x["code"] if key == "compounds" else x["id"] for x in got[key]}


def _stones(got: dict[str, list[Any]]) -> set[tuple[str, str]]:
    return {(t["entity"], t["id"]) for t in got["tombstones"]}


async def _assign(client: httpx.AsyncClient, tokens: Tokens, case: dict[str, Any], **body: Any) -> dict[str, Any]:
    current = (await client.get(f"{BASE}/cases/{case['id']}", headers=admin(tokens))).headers["etag"]
    resp = await client.post(
        f"{BASE}/cases/{case['id']}/assignment",
        json={"reason": "转交", **body},
        headers={**admin(tokens), "If-Match": current},
    )
    assert resp.status_code == 200, resp.text
    out: dict[str, Any] = resp.json()
    return out


async def _town(client: httpx.AsyncClient, tokens: Tokens) -> dict[str, dict[str, Any]]:
    """A resident with a case in grids 5 (anliang), 6 (binjiang) and 7 (jinchengyuan)."""
    made: dict[str, dict[str, Any]] = {}
    for grid, compound in (("g5", "anliang"), ("g6", "binjiang"), ("g7", "jinchengyuan")):
        r = await new_resident(client, admin(tokens), compound=compound, room="101")
        made[grid] = {"resident": r, "case": await new_case(client, admin(tokens), r["id"])}
    return made


async def test_a_grid_workers_first_sync_carries_their_grid_and_what_is_assigned_to_them(
    cases: httpx.AsyncClient, tokens: Tokens
) -> None:
    town = await _town(cases, tokens)
    await profile(cases, tokens, "chaoyang.worker", "chaoyang-g6")
    await _assign(cases, tokens, town["g7"]["case"], assigned_to="chaoyang.worker")
    h = worker(tokens)  # grid chaoyang-g6

    grid, _ = await _drain(cases, h)
    assert _ids(grid, "compounds") == {"binjiang", "jinchengyuan"}  # the assigned case's compound too
    assert _ids(grid, "residents") == {town["g6"]["resident"]["id"], town["g7"]["resident"]["id"]}
    assert _ids(grid, "cases") == {town["g6"]["case"]["id"], town["g7"]["case"]["id"]}
    assert {h["id"] for h in grid["households"]} == {
        town["g6"]["resident"]["household_id"],
        town["g7"]["resident"]["household_id"],
    }

    mine, _ = await _drain(cases, h, scope="mine")
    assert _ids(mine, "cases") == {town["g7"]["case"]["id"]}
    assert _ids(mine, "residents") == {town["g7"]["resident"]["id"]}
    assert _ids(mine, "compounds") == {"jinchengyuan"}

    everything, _ = await _drain(cases, h, scope="community")
    assert _ids(everything, "residents") == {t["resident"]["id"] for t in town.values()}
    assert len(_ids(everything, "compounds")) > 1
    assert sum(map(len, grid.values())) < sum(map(len, everything.values()))

    # an admin's default is the community; a worker without a grid cannot ask for one
    default, _ = await _drain(cases, admin(tokens))
    assert _ids(default, "residents") == _ids(everything, "residents")
    nogrid = tokens.headers("social_worker", community="chaoyang", subject="chaoyang.window")
    resp = await cases.get(f"{BASE}/sync", params={"scope": "grid"}, headers=nogrid)
    assert resp.status_code == 422 and resp.json()["code"] == "sync_scope_no_grid"
    first = (await cases.get(f"{BASE}/sync", headers=nogrid)).json()
    assert first["scope"] == "community"


async def test_a_case_assigned_from_another_grid_arrives_with_its_resident_and_leaves_with_a_tombstone(
    cases: httpx.AsyncClient, tokens: Tokens
) -> None:
    town = await _town(cases, tokens)
    await profile(cases, tokens, "chaoyang.worker", "chaoyang-g6")
    await profile(cases, tokens, "chaoyang.g7.worker", "chaoyang-g7")
    g6 = worker(tokens)
    g7 = tokens.headers("social_worker", community="chaoyang", grid="chaoyang-g7", subject="chaoyang.g7.worker")
    _, c6 = await _drain(cases, g6)
    _, c7 = await _drain(cases, g7)
    _, m6 = await _drain(cases, g6, scope="mine")
    case7, resident7 = town["g7"]["case"], town["g7"]["resident"]

    await _assign(cases, tokens, case7, assigned_to="chaoyang.worker", assigned_grid="chaoyang-g6")
    came, c6 = await _drain(cases, g6, c6)
    assert _ids(came, "cases") == {case7["id"]} and _ids(came, "residents") == {resident7["id"]}
    came_mine, m6 = await _drain(cases, g6, m6, scope="mine")
    assert _ids(came_mine, "cases") == {case7["id"]} and _ids(came_mine, "residents") == {resident7["id"]}
    # grid 7's team no longer holds the case (assigned to grid 6), but still its resident
    left7, c7 = await _drain(cases, g7, c7)
    assert _stones(left7) == {("case", case7["id"])}

    await _assign(cases, tokens, case7, assigned_to="chaoyang.g7.worker", assigned_grid="chaoyang-g7")
    gone, c6 = await _drain(cases, g6, c6)
    assert _stones(gone) == {("case", case7["id"]), ("resident", resident7["id"])}
    gone_mine, _ = await _drain(cases, g6, m6, scope="mine")
    assert _stones(gone_mine) == {("case", case7["id"]), ("resident", resident7["id"])}
    back7, _ = await _drain(cases, g7, c7)
    assert _ids(back7, "cases") == {case7["id"]} and not back7["tombstones"]

    # a case of the worker's own grid reassigned away from them stays: it is still in grid 6
    case6 = town["g6"]["case"]
    await _assign(cases, tokens, case6, assigned_to="chaoyang.worker")
    _, c6 = await _drain(cases, g6, c6)
    await _assign(cases, tokens, case6, assigned_to="chaoyang.g7.worker", assigned_grid="chaoyang-g6")
    kept, _ = await _drain(cases, g6, c6)
    assert _ids(kept, "cases") == {case6["id"]} and not kept["tombstones"]


async def test_a_worker_moved_to_another_grid_gets_tombstones_for_the_old_one_and_the_new_one_in_full(
    cases: httpx.AsyncClient, tokens: Tokens
) -> None:
    town = await _town(cases, tokens)
    # the grid comes from the roster here (a token without one), then from the token
    await profile(cases, tokens, "chaoyang.rover", "chaoyang-g6")
    rover = tokens.headers("social_worker", community="chaoyang", subject="chaoyang.rover")
    await _assign(cases, tokens, town["g5"]["case"], assigned_to="chaoyang.rover")
    before, cursor = await _drain(cases, rover)
    assert _ids(before, "residents") == {town["g6"]["resident"]["id"], town["g5"]["resident"]["id"]}

    await profile(cases, tokens, "chaoyang.rover", "chaoyang-g7")
    after, cursor = await _drain(cases, rover, cursor)
    r6 = town["g6"]["resident"]
    assert {("compound", "binjiang"), ("resident", r6["id"]), ("case", town["g6"]["case"]["id"])} <= _stones(after)
    assert ("household", r6["household_id"]) in _stones(after)
    # what is assigned to the worker stays; grid 7 arrives whole
    assert not {("case", town["g5"]["case"]["id"]), ("resident", town["g5"]["resident"]["id"])} & _stones(after)
    assert {t["entity"] for t in after["tombstones"]} <= {"compound", "resident", "household", "case"}
    assert _ids(after, "compounds") == {"jinchengyuan", "anliang"}
    assert _ids(after, "residents") == {town["g7"]["resident"]["id"], town["g5"]["resident"]["id"]}
    assert town["g7"]["case"]["id"] in _ids(after, "cases")
    nothing, same = await _drain(cases, rover, cursor)
    assert all(not v for v in nothing.values()) and same == cursor

    # the token's grid counts as well: the same worker with grid 6 in the token holds 6 and 7
    both = tokens.headers("social_worker", community="chaoyang", grid="chaoyang-g6", subject="chaoyang.rover")
    more, _ = await _drain(cases, both, cursor)
    assert r6["id"] in _ids(more, "residents") and not more["tombstones"]


async def test_a_cursor_answers_only_for_its_scope(cases: httpx.AsyncClient, tokens: Tokens) -> None:
    await _town(cases, tokens)
    h = worker(tokens)
    _, grid_cursor = await _drain(cases, h)
    resp = await cases.get(f"{BASE}/sync", params={"since": grid_cursor, "scope": "community"}, headers=h)
    assert resp.status_code == 410 and resp.json()["reason"] == "other_scope"
    other = tokens.headers("social_worker", community="chaoyang", grid="chaoyang-g6", subject="chaoyang.other")
    resp = await cases.get(f"{BASE}/sync", params={"since": grid_cursor}, headers=other)
    assert resp.status_code == 410 and resp.json()["reason"] == "foreign_cursor"
    resp = await cases.get(f"{BASE}/sync", params={"scope": "street"}, headers=h)
    assert resp.status_code == 422
