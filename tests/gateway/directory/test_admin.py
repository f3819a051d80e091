"""The directory admin API: reading (staff), writing (county admins), ETags, the public export."""

from __future__ import annotations

import datetime as dt

import httpx
from fastapi import FastAPI

from doorstep_gateway.directory import service
from doorstep_gateway.directory.schemas import CompoundUpdate
from doorstep_shared.clock import utcnow
from doorstep_shared.directory import Directory

from ...support import Tokens

BASE = "/api/v1/directory"


def admin(tokens: Tokens) -> dict[str, str]:
    return tokens.headers("county_admin", community=None, subject="county.admin")


async def export(gateway: httpx.AsyncClient) -> dict:
    resp = await gateway.get(f"{BASE}/export")
    assert resp.status_code == 200, resp.text
    return resp.json()


async def test_export_is_public_its_etag_is_the_revision_and_answers_304(gateway: httpx.AsyncClient) -> None:
    resp = await gateway.get(f"{BASE}/export")  # no token
    assert resp.status_code == 200
    body = resp.json()
    # Compressed on the way (a client that accepts gzip): the same tag, weak (see compression).
    assert resp.headers["etag"].removeprefix("W/") == f'"{body["revision"]}"'
    directory = Directory.from_export(body)
    assert (len(directory.counties), len(directory.communities), len(directory.grids), len(directory.compounds)) == (
        1,
        14,
        59,
        78,
    )
    assert body == directory.to_export()
    # The revision is the content hash of exactly this document.
    assert Directory.from_export({**body, "revision": ""}).revision == body["revision"]
    again = await gateway.get(f"{BASE}/export", headers={"If-None-Match": resp.headers["etag"]})
    assert again.status_code == 304 and again.content == b""


async def test_tree_nests_the_county_with_an_etag_and_404_for_an_unknown_county(
    gateway: httpx.AsyncClient, tokens: Tokens
) -> None:
    headers = tokens.headers("social_worker")
    resp = await gateway.get(f"{BASE}/tree", headers=headers, params={"county": "hexian"})
    assert resp.status_code == 200
    (county,) = resp.json()["counties"]
    chaoyang = next(c for c in county["communities"] if c["code"] == "chaoyang")
    grid6 = next(g for g in chaoyang["grids"] if g["code"] == "chaoyang-g6")
    assert [c["code"] for c in grid6["compounds"]] == ["binjiang"]
    cached = await gateway.get(
        f"{BASE}/tree", headers={**headers, "If-None-Match": resp.headers["etag"]}, params={"county": "hexian"}
    )
    assert cached.status_code == 304
    assert (await gateway.get(f"{BASE}/tree", headers=headers, params={"county": "nowhere"})).status_code == 404
    assert (await gateway.get(f"{BASE}/tree")).status_code == 401


async def test_a_social_worker_reads_the_directory_but_cannot_write_it(
    gateway: httpx.AsyncClient, tokens: Tokens
) -> None:
    worker = tokens.headers("social_worker")
    for kind in ("counties", "communities", "grids", "compounds"):
        assert (await gateway.get(f"{BASE}/{kind}", headers=worker)).status_code == 200
    assert (await gateway.get(f"{BASE}/compounds/binjiang", headers=worker)).json()["grid"] == "chaoyang-g6"
    denied = [
        await gateway.post(f"{BASE}/counties", headers=worker, json={"code": "x", "name": "X县"}),
        await gateway.patch(f"{BASE}/compounds/binjiang", headers=worker, json={"name": "改名"}),
        await gateway.post(f"{BASE}/import", headers=worker, files={"file": ("d.csv", b"x")}),
    ]
    assert [r.status_code for r in denied] == [403, 403, 403]
    assert (await gateway.get(f"{BASE}/compounds/binjiang", headers=worker)).json()["name"] == "滨江花园"


async def test_a_county_admin_builds_a_county_down_to_a_compound_and_it_is_exported(
    gateway: httpx.AsyncClient, tokens: Tokens
) -> None:
    headers = admin(tokens)
    before = (await export(gateway))["revision"]
    steps = [
        ("counties", {"code": "hanshan", "name": "含山县"}),
        ("communities", {"code": "huanfeng", "name": "环峰社区", "county": "hanshan"}),
        ("grids", {"code": "huanfeng-g1", "name": "第一网格", "community": "huanfeng"}),
        (
            "compounds",
            {"code": "fenghuang", "name": "凤凰小区", "grid": "huanfeng-g1", "latitude": 31.7, "longitude": 118.1},
        ),
    ]
    for kind, body in steps:
        resp = await gateway.post(f"{BASE}/{kind}", headers=headers, json=body)
        assert resp.status_code == 201, resp.text
        assert resp.headers["etag"]
    compound = (await gateway.get(f"{BASE}/compounds/fenghuang", headers=headers)).json()
    assert (compound["community"], compound["grid"], compound["active_to"]) == ("huanfeng", "huanfeng-g1", None)
    assert (await gateway.get(f"{BASE}/grids/huanfeng-g1", headers=headers)).json()["number"] == 1
    after = Directory.from_export(await export(gateway))
    assert after.revision != before
    assert after.compound("fenghuang") is not None and after.county_of("huanfeng") == "hanshan"


async def test_duplicate_codes_are_409_and_unknown_parents_422_naming_the_field(
    gateway: httpx.AsyncClient, tokens: Tokens
) -> None:
    headers = admin(tokens)
    duplicate = await gateway.post(
        f"{BASE}/communities", headers=headers, json={"code": "chaoyang", "name": "X", "county": "hexian"}
    )
    assert duplicate.status_code == 409 and duplicate.json()["code"] == "duplicate_code"
    orphan = await gateway.post(
        f"{BASE}/grids", headers=headers, json={"code": "x-g1", "name": "X", "community": "nowhere"}
    )
    assert orphan.status_code == 422
    assert orphan.json()["errors"][0]["field"] == "body.community"
    bad_code = await gateway.post(f"{BASE}/counties", headers=headers, json={"code": "Bad Code", "name": "X"})
    assert bad_code.status_code == 422
    assert Directory.from_export(await export(gateway)).grid("x-g1") is None


async def test_unknown_codes_are_404(gateway: httpx.AsyncClient, tokens: Tokens) -> None:
    headers = admin(tokens)
    assert (await gateway.get(f"{BASE}/compounds/nosuch", headers=headers)).status_code == 404
    assert (await gateway.patch(f"{BASE}/grids/nosuch", headers=headers, json={"name": "X"})).status_code == 404
    assert (await gateway.get(f"{BASE}/hamlets/x", headers=headers)).status_code == 404
    # An update names its fields: anything else is a 422 naming it.
    odd = await gateway.patch(f"{BASE}/compounds/binjiang", headers=headers, json={"community": "zhenhuai"})
    assert odd.status_code == 422 and odd.json()["errors"][0]["field"] == "body.community"


async def test_redrawing_a_compound_needs_the_current_etag_and_is_recorded(
    gateway: httpx.AsyncClient, tokens: Tokens
) -> None:
    headers = admin(tokens)
    before = (await export(gateway))["revision"]
    read = await gateway.get(f"{BASE}/compounds/binjiang", headers=headers)
    stale = await gateway.patch(
        f"{BASE}/compounds/binjiang", headers={**headers, "If-Match": '"stale"'}, json={"grid": "chaoyang-g1"}
    )
    assert stale.status_code == 412
    moved = await gateway.patch(
        f"{BASE}/compounds/binjiang",
        headers={**headers, "If-Match": read.headers["etag"]},
        json={"grid": "chaoyang-g1"},
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["grid"] == "chaoyang-g1" and moved.headers["etag"] != read.headers["etag"]
    history = (await gateway.get(f"{BASE}/compounds/binjiang/history", headers=headers)).json()
    assert history[0]["changes"] == {"grid": ["chaoyang-g6", "chaoyang-g1"]}
    assert (history[0]["actor"], history[0]["source"]) == ("county.admin", "api")
    after = Directory.from_export(await export(gateway))
    assert after.revision != before and after.compound("binjiang").grid == "chaoyang-g1"  # type: ignore[union-attr]
    auditor = tokens.headers("auditor", community=None)
    audited = (await gateway.get("/api/v1/audit", headers=auditor, params={"actor": "county.admin"})).json()["items"]
    assert [e["action"] for e in audited] == ["directory.compound_updated"]
    cross = await gateway.patch(f"{BASE}/compounds/binjiang", headers=headers, json={"grid": "nosuch"})
    assert cross.status_code == 422 and cross.json()["errors"][0]["field"] == "body.grid"


async def test_deactivating_takes_a_record_out_of_the_export_once_its_children_ended(
    gateway: httpx.AsyncClient, tokens: Tokens
) -> None:
    headers = admin(tokens)
    now = utcnow().isoformat()
    naive = await gateway.patch(
        f"{BASE}/compounds/binjiang", headers=headers, json={"active_to": "2027-01-01T00:00:00"}
    )
    assert naive.status_code == 422 and naive.json()["errors"][0]["field"] == "body.active_to"
    busy = await gateway.patch(f"{BASE}/grids/chaoyang-g6", headers=headers, json={"active_to": now})
    assert busy.status_code == 409 and busy.json()["code"] == "has_active_children"
    ended = await gateway.patch(f"{BASE}/compounds/binjiang", headers=headers, json={"active_to": now})
    assert ended.status_code == 200
    assert (
        await gateway.patch(f"{BASE}/grids/chaoyang-g6", headers=headers, json={"active_to": now})
    ).status_code == 200
    directory = Directory.from_export(await export(gateway))
    assert directory.compound("binjiang") is None and directory.grid("chaoyang-g6") is None
    # Still stored, and readable as ended.
    assert (await gateway.get(f"{BASE}/compounds/binjiang", headers=headers)).json()["active_to"] is not None
    # An end in the future keeps it exported until then.
    later = (utcnow() + dt.timedelta(days=30)).isoformat()
    assert (
        await gateway.patch(f"{BASE}/compounds/shuxiang", headers=headers, json={"active_to": later})
    ).status_code == 200
    assert Directory.from_export(await export(gateway)).compound("shuxiang") is not None


async def test_compounds_are_listed_a_page_at_a_time_and_filtered(gateway: httpx.AsyncClient, tokens: Tokens) -> None:
    headers = tokens.headers("social_worker")
    codes: list[str] = []
    cursor = None
    while True:
        params = {"limit": "30", **({"cursor": cursor} if cursor else {})}
        page = (await gateway.get(f"{BASE}/compounds", headers=headers, params=params)).json()
        codes += [c["code"] for c in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(codes) == len(set(codes)) == 78 and codes == sorted(codes)
    chaoyang = (await gateway.get(f"{BASE}/compounds", headers=headers, params={"community": "chaoyang"})).json()
    assert {c["community"] for c in chaoyang["items"]} == {"chaoyang"} and len(chaoyang["items"]) == 7
    forged = await gateway.get(f"{BASE}/compounds", headers=headers, params={"cursor": "abc.def"})
    assert forged.status_code == 422


async def test_a_write_through_another_replica_shows_in_this_ones_export(
    gateway: httpx.AsyncClient, gateway_app: FastAPI, tokens: Tokens
) -> None:
    before = (await export(gateway))["revision"]
    # Another replica: the same database, a copy of its own (this app's copy is not told).
    async with gateway_app.state.sessionmaker() as session:
        county_admin = tokens.principal("county_admin", community=None)
        rename = CompoundUpdate(name="滨江花园二期")
        await service.update(session, county_admin, "compounds", "binjiang", rename, None)
        await session.commit()
    after = Directory.from_export(await export(gateway))
    assert after.revision != before
    assert after.compound("binjiang").name == "滨江花园二期"  # type: ignore[union-attr]


async def test_the_dashboard_names_the_county_and_communities_of_the_directory(
    gateway: httpx.AsyncClient, tokens: Tokens
) -> None:
    page = (await gateway.get("/api/v1/reports/dashboard")).text
    assert "<h1>和县“家门口”服务" in page and '<option value="chaoyang">朝阳社区</option>' in page
    renamed = await gateway.patch(f"{BASE}/counties/hexian", headers=admin(tokens), json={"name": "演示县"})
    assert renamed.status_code == 200
    assert "<h1>演示县“家门口”服务" in (await gateway.get("/api/v1/reports/dashboard")).text
