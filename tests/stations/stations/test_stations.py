"""Stations: the demo county, search, station info, who may change what."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from ...support import Tokens
from ..helpers import admin, county, keeper, seed_demo

API = "/api/v1/stations"


async def test_demo_has_78_stations_and_chaoyangs_seven_featured_services(
    stations: httpx.AsyncClient, stations_app: FastAPI, tokens: Tokens
) -> None:
    await seed_demo(stations_app)
    await seed_demo(stations_app)  # idempotent
    h = tokens.headers("social_worker")
    r = await stations.get(f"{API}/stations", headers=h, params={"limit": 200})
    assert r.status_code == 200
    assert len(r.json()["items"]) == 78
    r = await stations.get(f"{API}/stations", headers=h, params={"community": "chaoyang"})
    items = {s["code"]: s for s in r.json()["items"]}
    assert len(items) == 7
    assert items["shuxiang"]["services"][0]["name"] == "爱心裁缝铺"
    assert items["shuxiang"]["services"][0]["kind"] == "drop_off"
    assert items["shuxiang"]["keepers"] == ["shuxiang.keeper"]
    assert items["zhongyang"]["services"][0]["name"] == "翰墨飘香"
    assert items["anliang"]["services"][0]["name"] == "暑期课堂"
    assert items["jingdu"]["services"][0]["name"] == "宝妈工坊"
    for s in items.values():
        assert 31.6 < s["latitude"] < 31.8 and 118.3 < s["longitude"] < 118.4


async def test_search_near_a_point_is_sorted_by_distance_within_the_radius(
    stations: httpx.AsyncClient, stations_app: FastAPI, tokens: Tokens
) -> None:
    await seed_demo(stations_app)
    h = tokens.headers("social_worker")
    r = await stations.get(f"{API}/stations", headers=h, params={"lat": 31.71, "lon": 118.36, "radius_km": 1.5})
    assert r.status_code == 200
    hits = r.json()["items"]
    assert hits
    distances = [hit["distance_km"] for hit in hits]
    assert distances == sorted(distances)
    assert all(d <= 1.5 for d in distances)
    r = await stations.get(f"{API}/stations", headers=h, params={"lat": 31.71})
    assert r.status_code == 422


async def test_search_by_kind_and_by_chinese_or_pinyin_keyword(
    stations: httpx.AsyncClient, stations_app: FastAPI, tokens: Tokens
) -> None:
    await seed_demo(stations_app)
    h = tokens.headers("social_worker")

    async def codes(**params: str) -> list[str]:
        r = await stations.get(f"{API}/stations", headers=h, params={**params, "limit": 200})
        assert r.status_code == 200, r.text
        return [s["code"] for s in r.json()["items"]]

    assert set(await codes(kind="drop_off")) == {"shuxiang", "chaoyangxincun"}
    assert await codes(q="裁缝") == ["shuxiang"]
    assert await codes(q="caifeng") == ["shuxiang"]
    assert await codes(q="cfp") == ["shuxiang"]
    assert (await codes(q="书香"))[0] == "shuxiang"
    assert "zhongyang" in await codes(q="翰墨")


async def test_open_now_filter_uses_shanghai_time(
    stations: httpx.AsyncClient, stations_app: FastAPI, tokens: Tokens
) -> None:
    from ..helpers import freeze, local

    await seed_demo(stations_app)
    h = tokens.headers("social_worker")
    freeze(stations_app, local(2026, 11, 25, 10, 0))  # a Wednesday morning
    r = await stations.get(f"{API}/stations", headers=h, params={"open_now": "true", "limit": 200})
    assert len(r.json()["items"]) == 78
    freeze(stations_app, local(2026, 11, 29, 10, 0))  # a Sunday
    r = await stations.get(f"{API}/stations", headers=h, params={"open_now": "true", "limit": 200})
    assert r.json()["items"] == []
    r = await stations.get(f"{API}/stations", headers=h, params={"open_now": "false", "limit": 5})
    assert len(r.json()["items"]) == 5 and r.json()["next_cursor"]


async def test_station_reads_carry_etags_and_updates_need_a_fresh_one(
    stations: httpx.AsyncClient, stations_app: FastAPI, tokens: Tokens
) -> None:
    await seed_demo(stations_app)
    h = keeper(tokens)
    r = await stations.get(f"{API}/stations/shuxiang", headers=h)
    etag = r.headers["etag"]
    r = await stations.get(f"{API}/stations/shuxiang", headers={**h, "If-None-Match": etag})
    assert r.status_code == 304
    r = await stations.patch(
        f"{API}/stations/shuxiang",
        headers={**h, "If-Match": etag},
        json={"contact": "0555-5301234"},
    )
    assert r.status_code == 200, r.text
    assert r.json()["contact"] == "0555-5301234"
    r = await stations.patch(f"{API}/stations/shuxiang", headers={**h, "If-Match": etag}, json={"contact": "x"})
    assert r.status_code == 412


async def test_keepers_manage_only_their_own_station(
    stations: httpx.AsyncClient, stations_app: FastAPI, tokens: Tokens
) -> None:
    await seed_demo(stations_app)
    h = keeper(tokens)
    r = await stations.patch(f"{API}/stations/zhongyang", headers=h, json={"contact": "x"})
    assert r.status_code == 403
    r = await stations.patch(f"{API}/stations/shuxiang", headers=h, json={"keepers": ["me"]})
    assert r.status_code == 403
    # community admins manage their community's stations, not others'
    r = await stations.patch(f"{API}/stations/zhongyang", headers=admin(tokens), json={"contact": "1"})
    assert r.status_code == 200
    r = await stations.patch(f"{API}/stations/zhenhuaiyuan", headers=admin(tokens), json={"contact": "1"})
    assert r.status_code == 403
    r = await stations.patch(f"{API}/stations/zhenhuaiyuan", headers=county(tokens), json={"contact": "1"})
    assert r.status_code == 200
    # social workers read but do not manage
    r = await stations.patch(f"{API}/stations/shuxiang", headers=tokens.headers("social_worker"), json={"contact": "1"})
    assert r.status_code == 403


async def test_reading_stations_is_open_to_machine_clients_with_stations_read(
    stations: httpx.AsyncClient, stations_app: FastAPI, tokens: Tokens
) -> None:
    await seed_demo(stations_app)
    client = tokens.headers(None, kind="client", scopes=("stations:read",))
    r = await stations.get(f"{API}/stations/shuxiang", headers=client)
    assert r.status_code == 200
    r = await stations.get(f"{API}/stations/shuxiang/hours", headers=client)
    assert r.status_code == 200
    other = tokens.headers(None, kind="client", scopes=("catalog:read",))
    assert (await stations.get(f"{API}/stations/shuxiang", headers=other)).status_code == 403
    assert (await stations.get(f"{API}/stations/shuxiang")).status_code == 401


async def test_bad_station_input_is_a_422_naming_the_field(stations: httpx.AsyncClient, tokens: Tokens) -> None:
    r = await stations.post(
        f"{API}/stations",
        headers=county(tokens),
        json={
            "code": "x",
            "name": "x",
            "community": "nowhere",
            "compound": "x",
            "latitude": 0,
            "longitude": 0,
        },
    )
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "body.community"
    r = await stations.post(f"{API}/stations", headers=county(tokens), json={"code": "X Y", "latitude": 100})
    assert r.status_code == 422
    assert (await stations.get(f"{API}/stations/nope", headers=county(tokens))).status_code == 404


async def test_keeper_renames_the_featured_service_with_the_station_etag(
    stations: httpx.AsyncClient, stations_app: FastAPI, tokens: Tokens
) -> None:
    await seed_demo(stations_app)
    h = keeper(tokens)
    etag = (await stations.get(f"{API}/stations/shuxiang", headers=h)).headers["etag"]
    r = await stations.patch(
        f"{API}/stations/shuxiang/services/tailoring",
        headers={**h, "If-Match": etag},
        json={"description": "免费缝补，周一至周五全天"},
    )
    assert r.status_code == 200 and r.json()["version"] == 2
    r = await stations.patch(
        f"{API}/stations/shuxiang/services/tailoring",
        headers={**h, "If-Match": etag},
        json={"active": False},
    )
    assert r.status_code == 412
    r = await stations.post(
        f"{API}/stations/shuxiang/services",
        headers=h,
        json={"code": "tailoring", "name": "x", "kind": "drop_off"},
    )
    assert r.status_code == 409
