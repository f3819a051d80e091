from __future__ import annotations

import asyncio
import datetime as dt

import httpx
import pytest

from ...support import Tokens
from ..helpers import BASE, create, id_number, resident_body, with_compounds, worker

pytestmark = pytest.mark.dates


async def test_registering_a_resident_masks_id_number_and_phone(proxy: httpx.AsyncClient, tokens: Tokens) -> None:
    await with_compounds(proxy)
    number = id_number(dt.date(1969, 9, 14), "male")
    resp = await proxy.post(f"{BASE}/residents", json=resident_body(id_number=number), headers=worker(tokens))
    assert resp.status_code == 201, resp.text
    body = resp.json()
    assert body["id_number_masked"] == number[:6] + "********" + number[-4:]
    assert body["phone_masked"] == "138****5678"
    assert number not in resp.text and "13812345678" not in resp.text
    assert body["birth_date"] == "1969-09-14" and body["gender"] == "male"
    assert body["community"] == "chaoyang" and body["grid"] == "chaoyang-g6"
    assert body["groups"] == ["disabled"]
    assert resp.headers["ETag"]
    again = await proxy.get(resp.headers["Location"], headers=worker(tokens))
    assert again.status_code == 200
    assert again.json()["id_number_masked"] == body["id_number_masked"]
    assert number not in again.text and "13812345678" not in again.text


async def test_invalid_checksum_names_the_id_number_field(proxy: httpx.AsyncClient, tokens: Tokens) -> None:
    await with_compounds(proxy)
    number = id_number()
    bad = number[:17] + ("0" if number[17] != "0" else "1")
    resp = await proxy.post(f"{BASE}/residents", json=resident_body(id_number=bad), headers=worker(tokens))
    assert resp.status_code == 422
    assert resp.json()["errors"][0]["field"] == "body.id_number"
    assert bad not in resp.text


async def test_birth_date_or_gender_contradicting_the_id_number_is_rejected(
    proxy: httpx.AsyncClient, tokens: Tokens
) -> None:
    await with_compounds(proxy)
    number = id_number(dt.date(1950, 3, 7), "female")
    resp = await proxy.post(
        f"{BASE}/residents",
        json=resident_body(id_number=number, birth_date="1950-03-08"),
        headers=worker(tokens),
    )
    assert resp.status_code == 422
    assert resp.json()["errors"][0]["field"] == "body.birth_date"
    resp = await proxy.post(
        f"{BASE}/residents",
        json=resident_body(id_number=number, gender="male"),
        headers=worker(tokens),
    )
    assert resp.status_code == 422
    assert resp.json()["errors"][0]["field"] == "body.gender"


async def test_impossible_phone_and_unknown_compound_are_rejected(proxy: httpx.AsyncClient, tokens: Tokens) -> None:
    await with_compounds(proxy)
    resp = await proxy.post(f"{BASE}/residents", json=resident_body(phone="12345"), headers=worker(tokens))
    assert resp.status_code == 422
    assert resp.json()["errors"][0]["field"] == "body.phone"
    assert "12345" not in resp.json()["detail"]
    resp = await proxy.post(f"{BASE}/residents", json=resident_body(compound="nowhere"), headers=worker(tokens))
    assert resp.status_code == 422
    assert resp.json()["errors"][0]["field"] == "body.compound"
    # another community's compound is as unknown as a made-up one
    resp = await proxy.post(f"{BASE}/residents", json=resident_body(compound="lishuijiayuan"), headers=worker(tokens))
    assert resp.status_code == 422


async def test_registering_the_same_person_twice_points_at_the_existing_record_masked(
    proxy: httpx.AsyncClient, tokens: Tokens
) -> None:
    await with_compounds(proxy)
    number = id_number()
    first = await create(proxy, worker(tokens), id_number=number)
    resp = await proxy.post(
        f"{BASE}/residents",
        json=resident_body(id_number=number, name="另一个", compound="shuxiang"),
        headers=worker(tokens),
    )
    assert resp.status_code == 409
    problem = resp.json()
    assert problem["code"] == "duplicate_resident"
    assert problem["existing"]["id"] == first["id"]
    assert problem["existing"]["id_number_masked"] == first["id_number_masked"]
    assert number not in resp.text


async def test_duplicate_in_another_community_does_not_disclose_the_record(
    proxy: httpx.AsyncClient, tokens: Tokens
) -> None:
    await with_compounds(proxy)
    number = id_number()
    await create(proxy, worker(tokens), id_number=number)
    resp = await proxy.post(
        f"{BASE}/residents",
        json=resident_body(id_number=number, compound="lishuijiayuan"),
        headers=worker(tokens, "zhenhuai"),
    )
    assert resp.status_code == 409
    assert resp.json()["existing"] is None


async def test_concurrent_registrations_of_one_person_create_one_record(
    proxy: httpx.AsyncClient, tokens: Tokens
) -> None:
    await with_compounds(proxy)
    number = id_number()
    results = await asyncio.gather(
        *[
            proxy.post(f"{BASE}/residents", json=resident_body(id_number=number), headers=worker(tokens))
            for _ in range(4)
        ]
    )
    codes = sorted(r.status_code for r in results)
    assert codes == [201, 409, 409, 409]


async def test_another_communitys_resident_answers_404_and_never_appears_in_lists(
    proxy: httpx.AsyncClient, tokens: Tokens
) -> None:
    await with_compounds(proxy)
    mine = await create(proxy, worker(tokens))
    theirs = await create(proxy, worker(tokens, "zhenhuai"), compound="lishuijiayuan")
    resp = await proxy.get(f"{BASE}/residents/{theirs['id']}", headers=worker(tokens))
    assert resp.status_code == 404
    for method, path, body in (
        ("PATCH", f"/residents/{theirs['id']}", {"name": "x"}),
        ("POST", f"/residents/{theirs['id']}/reveal", {"reason": "办理残疾人补贴申请"}),
        ("POST", f"/residents/{theirs['id']}/removal", {"status": "deceased", "reason": "死亡"}),
    ):
        r = await proxy.request(method, BASE + path, json=body, headers=worker(tokens))
        assert r.status_code == 404, (path, r.text)
    listed = await proxy.get(f"{BASE}/residents", params={"limit": 200}, headers=worker(tokens))
    ids = [r["id"] for r in listed.json()["items"]]
    assert ids == [mine["id"]]
    county = tokens.headers("county_admin", community=None)
    listed = await proxy.get(f"{BASE}/residents", headers=county)
    assert {r["id"] for r in listed.json()["items"]} == {mine["id"], theirs["id"]}


async def test_stale_if_match_gets_412_and_the_first_update_wins(proxy: httpx.AsyncClient, tokens: Tokens) -> None:
    await with_compounds(proxy)
    r = await create(proxy, worker(tokens))
    url = f"{BASE}/residents/{r['id']}"
    etag = (await proxy.get(url, headers=worker(tokens))).headers["ETag"]
    first, second = await asyncio.gather(
        proxy.patch(url, json={"living_alone": True}, headers={**worker(tokens), "If-Match": etag}),
        proxy.patch(url, json={"dibao": True}, headers={**worker(tokens), "If-Match": etag}),
    )
    assert sorted([first.status_code, second.status_code]) == [200, 412]
    stale = first if first.status_code == 412 else second
    assert stale.json()["code"] == "stale_etag"
    now = (await proxy.get(url, headers=worker(tokens))).json()
    assert now["version"] == 2
    assert (now["living_alone"] is True) != (now["dibao"] is True)


async def test_update_changes_facts_and_benefits_and_not_modified_on_same_etag(
    proxy: httpx.AsyncClient, tokens: Tokens
) -> None:
    await with_compounds(proxy)
    r = await create(proxy, worker(tokens))
    url = f"{BASE}/residents/{r['id']}"
    resp = await proxy.patch(
        url,
        json={
            "benefits": [{"item_code": "severe-disability-care-subsidy", "since": "2026-03-01"}],
            "disability_grade": None,
            "phone": "13900001111",
            "room": "601",
        },
        headers=worker(tokens),
    )
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["benefits"] == [{"item_code": "severe-disability-care-subsidy", "since": "2026-03-01"}]
    assert body["disability_grade"] is None
    assert body["phone_masked"] == "139****1111"
    assert body["room"] == "601" and body["household_id"] != r["household_id"]
    assert body["surveyed_by"] == "chaoyang.worker"
    cached = await proxy.get(url, headers={**worker(tokens), "If-None-Match": resp.headers["ETag"]})
    assert cached.status_code == 304


async def test_removed_resident_leaves_lists_but_keeps_the_record(proxy: httpx.AsyncClient, tokens: Tokens) -> None:
    await with_compounds(proxy)
    r = await create(proxy, worker(tokens))
    resp = await proxy.post(
        f"{BASE}/residents/{r['id']}/removal",
        json={"status": "moved_away", "reason": "搬至南京居住"},
        headers=worker(tokens),
    )
    assert resp.status_code == 200
    assert resp.json()["status"] == "moved_away"
    listed = await proxy.get(f"{BASE}/residents", headers=worker(tokens))
    assert listed.json()["items"] == []
    listed = await proxy.get(f"{BASE}/residents", params={"status": "moved_away"}, headers=worker(tokens))
    assert [x["id"] for x in listed.json()["items"]] == [r["id"]]
    again = await proxy.post(
        f"{BASE}/residents/{r['id']}/removal",
        json={"status": "deceased", "reason": "重复"},
        headers=worker(tokens),
    )
    assert again.status_code == 409
