from __future__ import annotations

import datetime as dt

import httpx
import pytest

from ...support import Tokens
from ..helpers import BASE, create, id_number, with_compounds, worker

pytestmark = pytest.mark.dates


async def _three(proxy: httpx.AsyncClient, tokens: Tokens) -> list[dict[str, object]]:
    await with_compounds(proxy)
    h = worker(tokens)
    return [
        await create(
            proxy,
            h,
            name="江明远",
            id_number=id_number(dt.date(1969, 9, 14)),
            phone="13812345678",
            building="6",
            room="502",
        ),
        await create(
            proxy,
            h,
            name="江小燕",
            id_number=id_number(dt.date(1940, 1, 2), "female"),
            phone="13987654321",
            building="3",
            room="301",
            disability_type=None,
            disability_grade=None,
            living_alone=True,
        ),
        await create(
            proxy,
            h,
            name="罗志刚",
            id_number=id_number(dt.date(1985, 5, 5)),
            phone=None,
            compound="shuxiang",
            building="1",
            room="101",
            disability_type=None,
            disability_grade=None,
            dibao=True,
        ),
    ]


async def _names(proxy: httpx.AsyncClient, tokens: Tokens, **params: object) -> list[str]:
    resp = await proxy.get(f"{BASE}/residents", params=params, headers=worker(tokens))
    assert resp.status_code == 200, resp.text
    return sorted(r["name"] for r in resp.json()["items"])


async def test_residents_are_found_by_name_part_last4_phone_and_address(
    proxy: httpx.AsyncClient, tokens: Tokens
) -> None:
    people = await _three(proxy, tokens)
    assert await _names(proxy, tokens, q="江") == ["江小燕", "江明远"]
    assert await _names(proxy, tokens, q="志") == ["罗志刚"]
    last4 = str(people[2]["id_number_masked"])[-4:]
    assert "罗志刚" in await _names(proxy, tokens, id_last4=last4)
    assert await _names(proxy, tokens, phone="139 8765 4321") == ["江小燕"]
    assert await _names(proxy, tokens, phone="13800000000") == []
    assert await _names(proxy, tokens, compound="binjiang", building="6") == ["江明远"]
    assert await _names(proxy, tokens, compound="shuxiang", room="101") == ["罗志刚"]
    assert await _names(proxy, tokens, q="%") == []


async def test_special_group_filters(proxy: httpx.AsyncClient, tokens: Tokens) -> None:
    await _three(proxy, tokens)
    assert await _names(proxy, tokens, group="elderly_80") == ["江小燕"]
    assert await _names(proxy, tokens, group="disabled") == ["江明远"]
    assert await _names(proxy, tokens, group="living_alone") == ["江小燕"]
    assert await _names(proxy, tokens, group="dibao") == ["罗志刚"]
    assert await _names(proxy, tokens, disability_type="physical", disability_grade=2) == ["江明远"]
    assert await _names(proxy, tokens, group="disabled", without_benefit="severe-disability-care-subsidy") == ["江明远"]


async def test_cursor_pagination_walks_every_resident_once(proxy: httpx.AsyncClient, tokens: Tokens) -> None:
    await with_compounds(proxy)
    h = worker(tokens)
    for i in range(7):
        await create(proxy, h, name=f"方{i}", id_number=id_number(), room=str(100 + i % 3))
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, object] = {"limit": 3}
        if cursor:
            params["cursor"] = cursor
        page = (await proxy.get(f"{BASE}/residents", params=params, headers=h)).json()
        seen.extend(r["id"] for r in page["items"])
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert len(seen) == 7 == len(set(seen))
    bad = await proxy.get(f"{BASE}/residents", params={"cursor": "!!"}, headers=h)
    assert bad.status_code == 422


async def test_households_group_people_living_together(proxy: httpx.AsyncClient, tokens: Tokens) -> None:
    await with_compounds(proxy)
    h = worker(tokens)
    a = await create(proxy, h, id_number=id_number(), room="702")
    b = await create(
        proxy,
        h,
        id_number=id_number(),
        name="许静",
        room="702",
        disability_type=None,
        disability_grade=None,
    )
    assert a["household_id"] == b["household_id"]
    listed = await proxy.get(f"{BASE}/households", params={"compound": "binjiang"}, headers=h)
    assert listed.status_code == 200
    assert [x["members"] for x in listed.json()["items"]] == [2]
    detail = await proxy.get(f"{BASE}/households/{a['household_id']}", headers=h)
    assert detail.status_code == 200
    assert len(detail.json()["residents"]) == 2
    assert all("*" in r["id_number_masked"] for r in detail.json()["residents"])
    other = await proxy.get(f"{BASE}/households/{a['household_id']}", headers=worker(tokens, "zhenhuai"))
    assert other.status_code == 404


async def test_compounds_are_listed_per_grid_and_scoped(proxy: httpx.AsyncClient, tokens: Tokens) -> None:
    await with_compounds(proxy)
    resp = await proxy.get(f"{BASE}/compounds", params={"grid": "chaoyang-g6"}, headers=worker(tokens))
    assert [c["code"] for c in resp.json()["items"]] == ["binjiang"]
    resp = await proxy.get(f"{BASE}/compounds", params={"limit": 200}, headers=worker(tokens))
    assert {c["community"] for c in resp.json()["items"]} == {"chaoyang"}
    assert len(resp.json()["items"]) == 7
    resp = await proxy.get(f"{BASE}/compounds/lishuijiayuan", headers=worker(tokens))
    assert resp.status_code == 404
    one = await proxy.get(f"{BASE}/compounds/binjiang", headers=worker(tokens))
    assert one.json()["name"] == "滨江花园"
    admin = tokens.headers("community_admin", community="chaoyang")
    patched = await proxy.patch(
        f"{BASE}/compounds/binjiang",
        json={"address": "和县朝阳社区滨江路1号"},
        headers={**admin, "If-Match": one.headers["ETag"]},
    )
    assert patched.status_code == 200 and patched.json()["version"] == 2
    stale = await proxy.patch(
        f"{BASE}/compounds/binjiang",
        json={"buildings": 13},
        headers={**admin, "If-Match": one.headers["ETag"]},
    )
    assert stale.status_code == 412


async def test_forged_cursors_are_422_not_500(proxy: httpx.AsyncClient, tokens: Tokens) -> None:
    from doorstep_shared.http.pagination import encode_cursor

    await with_compounds(proxy)
    await create(proxy, worker(tokens))
    for values, path in (
        (["a", "b", "c", "d", "e", "not-a-uuid"], "/residents"),
        ([1, 2, 3, 4, 5, "00000000-0000-0000-0000-000000000000"], "/residents"),
        ([1, 2, 3, 4, "x"], "/households"),
        (["yesterday", "x"], "/demands"),
        (["2026-01-01T00:00:00", "00000000-0000-0000-0000-000000000000"], "/demands"),
        (["x"], "/reveals"),
    ):
        resp = await proxy.get(
            BASE + path,
            params={"cursor": encode_cursor(values)},
            headers=tokens.headers("auditor" if path == "/reveals" else "county_admin", community=None),
        )
        assert resp.status_code in (200, 422), (path, values, resp.text)


async def test_exact_lookup_by_full_id_number_or_phone_in_the_body(proxy: httpx.AsyncClient, tokens: Tokens) -> None:
    people = await _three(proxy, tokens)
    app_ids = {p["id"] for p in people}
    number = id_number(dt.date(1969, 9, 14))
    found = await create(proxy, worker(tokens), id_number=number, name="卫东", phone=None)
    resp = await proxy.post(f"{BASE}/residents/lookup", json={"id_number": number}, headers=worker(tokens))
    assert resp.status_code == 200
    assert [r["id"] for r in resp.json()["items"]] == [found["id"]]
    assert number not in resp.text
    resp = await proxy.post(f"{BASE}/residents/lookup", json={"phone": "13987654321"}, headers=worker(tokens))
    assert [r["name"] for r in resp.json()["items"]] == ["江小燕"]
    assert resp.json()["items"][0]["id"] in app_ids
    other = await proxy.post(f"{BASE}/residents/lookup", json={"id_number": number}, headers=worker(tokens, "zhenhuai"))
    assert other.json()["items"] == []
    bad = await proxy.post(f"{BASE}/residents/lookup", json={"phone": "1"}, headers=worker(tokens))
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "body.phone"
    empty = await proxy.post(f"{BASE}/residents/lookup", json={}, headers=worker(tokens))
    assert empty.status_code == 422
