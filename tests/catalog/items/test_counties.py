"""A handbook per county: two counties may hold the same item code with different content; a
county copies another's published handbook as drafts, edits and publishes it; every read
(item, list, search, evaluation, sheet, versions, export) is of the caller's county, and a
county never sees another's drafts."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text

from doorstep_catalog.items import service as items_service
from doorstep_shared.directory import Community, County, Directory

from ...directory_support import DEMO
from ...support import Tokens
from ..helpers import DEMO_COUNTY, create_item

ITEMS = "/api/v1/catalog/items"
IMPORT = "/api/v1/catalog/import-from"
OTHER = "neighbour"  # a second county, as data in the directory: no code knows it
TWO = Directory.of(
    (*DEMO.counties, County(OTHER, "邻县")),
    (*DEMO.communities, Community("riverside", "河畔社区", OTHER)),
    DEMO.grids,
    DEMO.compounds,
)


@pytest.fixture
async def two_counties(catalog_app: FastAPI) -> AsyncIterator[Directory]:
    """The catalog following a directory of two counties (the demo one and ``OTHER``)."""
    copy = catalog_app.state.directory
    before = copy.current
    copy.prime(TWO, source="file")  # "file": the poll keeps it (the file has not changed)
    try:
        yield TWO
    finally:
        copy.prime(before, source="file")


def staff(tokens: Tokens, role: str, county: str, community: str | None) -> dict[str, str]:
    return tokens.headers(role, county=county, community=community, subject=f"{county}.{role}")


@pytest.fixture
def a_admin(tokens: Tokens) -> dict[str, str]:
    return staff(tokens, "county_admin", DEMO_COUNTY, None)


@pytest.fixture
def a_worker(tokens: Tokens) -> dict[str, str]:
    return staff(tokens, "social_worker", DEMO_COUNTY, "zhenhuai")


@pytest.fixture
def b_admin(tokens: Tokens) -> dict[str, str]:
    return staff(tokens, "county_admin", OTHER, None)


@pytest.fixture
def b_worker(tokens: Tokens) -> dict[str, str]:
    return staff(tokens, "social_worker", OTHER, "riverside")


async def materials(client: httpx.AsyncClient, headers: dict[str, str], code: str) -> list[str]:
    resp = await client.get(f"{ITEMS}/{code}", headers=headers)
    assert resp.status_code == 200, resp.text
    return [m["name"] for m in resp.json()["materials"]]


async def publish(client: httpx.AsyncClient, headers: dict[str, str], code: str, **changes: Any) -> dict[str, Any]:
    etag = (await client.get(f"{ITEMS}/{code}", headers=headers)).headers["ETag"]
    body = {"reason": "本县发布", "status": "published", **changes}
    resp = await client.patch(f"{ITEMS}/{code}", json=body, headers={**headers, "If-Match": etag})
    assert resp.status_code == 200, resp.text
    return dict(resp.json())


async def test_two_counties_hold_the_same_code_with_different_materials(
    seeded: httpx.AsyncClient,
    two_counties: Directory,
    a_worker: dict[str, str],
    b_admin: dict[str, str],
    b_worker: dict[str, str],
) -> None:
    demo_materials = await materials(seeded, a_worker, "elderly-allowance")
    await create_item(
        seeded,
        b_admin,
        "elderly-allowance",
        name="高龄津贴",
        materials=[{"name": "邻县户口簿", "form": "original", "count": 1}],
    )
    assert await materials(seeded, b_worker, "elderly-allowance") == ["邻县户口簿"]
    assert await materials(seeded, a_worker, "elderly-allowance") == demo_materials
    assert "邻县户口簿" not in demo_materials
    # The same code twice in one county is still a conflict.
    again = await seeded.post(
        ITEMS, json={"code": "elderly-allowance", "name": "重复", "category": "elderly-livelihood"}, headers=b_admin
    )
    assert again.status_code == 409 and again.json()["code"] == "duplicate_code"
    # Each county lists its own handbook only.
    b_list = (await seeded.get(ITEMS, params={"limit": 100}, headers=b_worker)).json()["items"]
    assert [i["code"] for i in b_list] == ["elderly-allowance"]
    a_list = (await seeded.get(ITEMS, params={"limit": 100}, headers=a_worker)).json()["items"]
    assert len(a_list) > 1 and "高龄津贴" not in {i["name"] for i in a_list}


async def test_import_from_copies_published_items_as_drafts_into_the_callers_county_only(
    seeded: httpx.AsyncClient,
    catalog_app: FastAPI,
    tokens: Tokens,
    two_counties: Directory,
    a_admin: dict[str, str],
    a_worker: dict[str, str],
    b_admin: dict[str, str],
    b_worker: dict[str, str],
) -> None:
    a_before = (await seeded.get(ITEMS, params={"limit": 100, "status": "draft"}, headers=a_admin)).json()
    await create_item(seeded, a_admin, "a-draft", name="本县草稿", status="draft")
    await create_item(seeded, b_admin, "local-subsidy", name="邻县本地补贴", status="draft")
    published = {i["code"] for i in (await seeded.get(ITEMS, params={"limit": 100}, headers=a_worker)).json()["items"]}

    resp = await seeded.post(IMPORT, json={"from_county": DEMO_COUNTY}, headers=b_admin)
    assert resp.status_code == 200, resp.text
    report = resp.json()
    assert report["county"] == OTHER and report["from_county"] == DEMO_COUNTY
    assert set(report["copied"]) == published  # every published item, not A's draft
    assert "a-draft" not in report["copied"] and report["skipped"] == []

    # Drafts of B: B's admin sees them, B's workers do not (yet), A is unchanged.
    drafts = (await seeded.get(ITEMS, params={"limit": 100, "status": "draft"}, headers=b_admin)).json()["items"]
    assert {i["code"] for i in drafts} == published | {"local-subsidy"}
    assert (await seeded.get(f"{ITEMS}/elderly-allowance", headers=b_worker)).status_code == 404
    assert (await seeded.get(ITEMS, headers=b_worker)).json()["items"] == []
    draft = (await seeded.get(f"{ITEMS}/elderly-allowance", headers=b_admin)).json()
    assert draft["status"] == "draft" and draft["county"] == OTHER and draft["published_version"] == 0
    a_after = (await seeded.get(ITEMS, params={"limit": 100, "status": "draft"}, headers=a_admin)).json()
    assert [i["code"] for i in a_after["items"]] == sorted([*(i["code"] for i in a_before["items"]), "a-draft"])

    # A second copy duplicates nothing: every code is reported as skipped.
    again = (await seeded.post(IMPORT, json={"from_county": DEMO_COUNTY}, headers=b_admin)).json()
    assert again["copied"] == [] and set(again["skipped"]) == published
    async with catalog_app.state.sessionmaker() as session:
        rows = (await session.execute(text("SELECT county, count(*) FROM item GROUP BY county"))).all()
    counts = dict(rows)
    assert counts == {DEMO_COUNTY: len(published) + 1 + len(a_before["items"]), OTHER: len(published) + 1}

    # Audited like every catalogue write, in B's name.
    log = await seeded.get(
        "/api/v1/catalog/audit", params={"subject_id": OTHER}, headers=tokens.headers("auditor", community=None)
    )
    assert log.status_code == 200, log.text
    entries = [e for e in log.json()["items"] if e["subject_type"] == "handbook"]
    assert [e["action"] for e in entries] == ["handbook.import", "handbook.import"]
    assert {e["actor"] for e in entries} == {f"{OTHER}.county_admin"}
    assert entries[-1]["details"]["from_county"] == DEMO_COUNTY


async def test_import_from_refuses_unknown_and_own_counties_and_non_county_staff(
    seeded: httpx.AsyncClient, two_counties: Directory, tokens: Tokens, b_admin: dict[str, str]
) -> None:
    unknown = await seeded.post(IMPORT, json={"from_county": "atlantis"}, headers=b_admin)
    assert unknown.status_code == 404 and unknown.json()["code"] == "unknown_county"
    own = await seeded.post(IMPORT, json={"from_county": OTHER}, headers=b_admin)
    assert own.status_code == 409 and own.json()["code"] == "same_county"
    empty = await seeded.post(
        IMPORT, json={"from_county": OTHER}, headers=staff(tokens, "county_admin", DEMO_COUNTY, None)
    )
    assert empty.status_code == 404 and empty.json()["code"] == "no_handbook"
    community_admin = staff(tokens, "community_admin", OTHER, "riverside")
    refused = await seeded.post(IMPORT, json={"from_county": DEMO_COUNTY}, headers=community_admin)
    assert refused.status_code == 403
    worker = staff(tokens, "social_worker", OTHER, "riverside")
    assert (await seeded.post(IMPORT, json={"from_county": DEMO_COUNTY}, headers=worker)).status_code == 403


async def test_after_publishing_county_b_reads_searches_and_evaluates_its_own_edits(
    seeded: httpx.AsyncClient,
    two_counties: Directory,
    a_worker: dict[str, str],
    b_admin: dict[str, str],
    b_worker: dict[str, str],
) -> None:
    a_item = (await seeded.get(f"{ITEMS}/elderly-allowance", headers=a_worker)).json()
    a_search = (await seeded.get(ITEMS, params={"q": "邻县长寿金"}, headers=a_worker)).json()["items"]
    facts = {"facts": {"age": 82, "hukou_local": True}, "items": ["elderly-allowance"]}
    await seeded.post(IMPORT, json={"from_county": DEMO_COUNTY}, headers=b_admin)
    # Before B publishes, B has nothing to evaluate against.
    early = await seeded.post("/api/v1/catalog/eligibility/evaluate", json=facts, headers=b_worker)
    assert early.status_code == 422

    published = await publish(
        seeded,
        b_admin,
        "elderly-allowance",
        department="邻县民政局",
        aliases=["邻县长寿金"],
        materials=[{"name": "邻县户口簿", "form": "original", "count": 1}],
    )
    assert published["version"] == 2 and published["published_version"] == 1

    b_read = (await seeded.get(f"{ITEMS}/elderly-allowance", headers=b_worker)).json()
    assert b_read["department"] == "邻县民政局" and [m["name"] for m in b_read["materials"]] == ["邻县户口簿"]
    b_found = (await seeded.get(ITEMS, params={"q": "邻县长寿金"}, headers=b_worker)).json()["items"]
    assert [i["code"] for i in b_found][:1] == ["elderly-allowance"]
    evaluated = await seeded.post("/api/v1/catalog/eligibility/evaluate", json=facts, headers=b_worker)
    assert evaluated.status_code == 200, evaluated.text
    assert [r["code"] for r in evaluated.json()["results"]] == ["elderly-allowance"]
    versions = (await seeded.get(f"{ITEMS}/elderly-allowance/versions", headers=b_worker)).json()["items"]
    assert [v["number"] for v in versions] == [1]

    # County A is unchanged: its item, its search, its versions.
    assert (await seeded.get(f"{ITEMS}/elderly-allowance", headers=a_worker)).json() == a_item
    assert (await seeded.get(ITEMS, params={"q": "邻县长寿金"}, headers=a_worker)).json()["items"] == a_search
    # B's published search does not leak B's drafts either.
    assert {
        i["status"] for i in (await seeded.get(ITEMS, params={"limit": 100}, headers=b_worker)).json()["items"]
    } == {"published"}


async def test_a_user_of_one_county_cannot_read_anothers_drafts(
    seeded: httpx.AsyncClient, two_counties: Directory, a_admin: dict[str, str], b_admin: dict[str, str]
) -> None:
    await create_item(seeded, b_admin, "b-only-draft", name="邻县草稿", status="draft")
    assert (await seeded.get(f"{ITEMS}/b-only-draft", headers=b_admin)).status_code == 200
    assert (await seeded.get(f"{ITEMS}/b-only-draft", headers=a_admin)).status_code == 404
    other = await seeded.get(f"{ITEMS}/b-only-draft", params={"county": OTHER}, headers=a_admin)
    assert other.status_code == 404
    drafts = (await seeded.get(ITEMS, params={"status": "draft", "limit": 100}, headers=a_admin)).json()["items"]
    assert "b-only-draft" not in {i["code"] for i in drafts}
    versions = await seeded.get(f"{ITEMS}/b-only-draft/versions", headers=a_admin)
    assert versions.status_code == 404
    # Nor edit them: A's If-Match on B's item is a 404 too.
    etag = (await seeded.get(f"{ITEMS}/b-only-draft", headers=b_admin)).headers["ETag"]
    edit = await seeded.patch(
        f"{ITEMS}/b-only-draft", json={"reason": "越权", "name": "改名"}, headers={**a_admin, "If-Match": etag}
    )
    assert edit.status_code == 404


async def test_the_export_carries_each_items_county(
    seeded: httpx.AsyncClient, two_counties: Directory, tokens: Tokens, b_admin: dict[str, str]
) -> None:
    await create_item(seeded, b_admin, "elderly-allowance", name="高龄津贴")
    service = tokens.headers(None, kind="client", scopes=("catalog:read",), communities=())
    everything = await seeded.get("/api/v1/catalog/export", headers=service)
    assert everything.status_code == 200, everything.text
    counties = {(i["county"], i["code"]) for i in everything.json()["items"]}
    assert (OTHER, "elderly-allowance") in counties and (DEMO_COUNTY, "elderly-allowance") in counties
    assert "county" not in everything.json()
    only_b = await seeded.get("/api/v1/catalog/export", params={"county": OTHER}, headers=service)
    assert only_b.json()["county"] == OTHER
    assert [i["code"] for i in only_b.json()["items"]] == ["elderly-allowance"]
    assert only_b.headers["ETag"] != everything.headers["ETag"]
    # Staff read their county's; an unchanged export is a 304.
    mine = await seeded.get("/api/v1/catalog/export", headers=b_admin)
    assert mine.json()["county"] == OTHER and mine.headers["ETag"] == only_b.headers["ETag"]
    again = await seeded.get("/api/v1/catalog/export", headers={**b_admin, "If-None-Match": mine.headers["ETag"]})
    assert again.status_code == 304
    # A machine client without a county in a two-county deployment must say which.
    item = await seeded.get(f"{ITEMS}/elderly-allowance", headers=service)
    assert item.status_code == 422 and item.json()["code"] == "county_required"
    named = await seeded.get(f"{ITEMS}/elderly-allowance", params={"county": OTHER}, headers=service)
    assert named.status_code == 200 and named.json()["name"] == "高龄津贴"
    unknown = await seeded.get(f"{ITEMS}/elderly-allowance", params={"county": "atlantis"}, headers=service)
    assert unknown.status_code == 404


async def test_the_public_sheet_takes_the_county_and_defaults_to_the_only_one(
    seeded: httpx.AsyncClient, two_counties: Directory, b_admin: dict[str, str]
) -> None:
    await create_item(seeded, b_admin, "elderly-allowance", name="河畔长者金")
    b_sheet = await seeded.get(f"{ITEMS}/elderly-allowance/sheet", params={"county": OTHER})
    assert b_sheet.status_code == 200 and "河畔长者金" in b_sheet.text
    a_sheet = await seeded.get(f"{ITEMS}/elderly-allowance/sheet", params={"county": DEMO_COUNTY})
    assert a_sheet.status_code == 200 and "河畔长者金" not in a_sheet.text
    # Two counties and no parameter: the sheet cannot guess.
    assert (await seeded.get(f"{ITEMS}/elderly-allowance/sheet")).status_code == 422


async def test_a_single_county_deployment_needs_no_parameter_and_claims_rows_from_before_counties(
    seeded: httpx.AsyncClient, catalog_app: FastAPI
) -> None:
    assert (await seeded.get(f"{ITEMS}/elderly-allowance/sheet")).status_code == 200
    async with catalog_app.state.engine.begin() as conn:
        await conn.execute(text("UPDATE item SET county = '' WHERE code = 'dibao'"))
    async with catalog_app.state.sessionmaker() as session:
        assert await items_service.claim_unassigned(session, DEMO_COUNTY) == 1
        await session.commit()
    async with catalog_app.state.sessionmaker() as session:
        county = (await session.execute(text("SELECT county FROM item WHERE code = 'dibao'"))).scalar_one()
    assert county == DEMO_COUNTY


async def test_a_machine_client_bound_to_a_community_reads_its_countys_handbook(
    seeded: httpx.AsyncClient, two_counties: Directory, tokens: Tokens, b_admin: dict[str, str]
) -> None:
    await create_item(seeded, b_admin, "elderly-allowance", name="河畔长者金")
    platform = tokens.headers(None, kind="client", scopes=("catalog:read",), communities=("riverside",))
    export = (await seeded.get("/api/v1/catalog/export", headers=platform)).json()
    assert export["county"] == OTHER and [i["name"] for i in export["items"]] == ["河畔长者金"]
    item = await seeded.get(f"{ITEMS}/elderly-allowance", headers=platform)
    assert item.status_code == 200 and item.json()["name"] == "河畔长者金"
    demo_platform = tokens.headers(None, kind="client", scopes=("catalog:read",), communities=("zhenhuai",))
    assert (await seeded.get(f"{ITEMS}/elderly-allowance", headers=demo_platform)).json()["name"] != "河畔长者金"


async def test_rows_from_before_counties_join_the_county_when_the_directory_names_only_one(
    seeded: httpx.AsyncClient, catalog_app: FastAPI, a_worker: dict[str, str]
) -> None:
    copy = catalog_app.state.directory
    demo = copy.current
    async with catalog_app.state.engine.begin() as conn:  # as the migration leaves them
        await conn.execute(text("UPDATE item SET county = ''"))
        await conn.execute(text("UPDATE catalog_state SET revision = revision + 1"))
    catalog_app.state.catalog_index.expire()
    assert (await seeded.get(f"{ITEMS}/dibao", headers=a_worker)).status_code == 404
    try:
        copy.prime(TWO, source="file")
        await copy.refresh()  # two counties: nobody's to claim
        assert (await seeded.get(f"{ITEMS}/dibao", headers=a_worker)).status_code == 404
    finally:
        copy.prime(demo, source="file")
    await copy.refresh()  # one county again: the rows are its
    assert (await seeded.get(f"{ITEMS}/dibao", headers=a_worker)).status_code == 200


async def test_search_misses_are_the_countys_own(
    seeded: httpx.AsyncClient,
    two_counties: Directory,
    a_admin: dict[str, str],
    a_worker: dict[str, str],
    b_admin: dict[str, str],
) -> None:
    found = (await seeded.get(ITEMS, params={"q": "夕阳红卡"}, headers=a_worker)).json()
    assert found["search_id"]
    a_misses = (await seeded.get("/api/v1/catalog/search/misses", headers=a_admin)).json()["misses"]
    assert "夕阳红卡" in {m["query"] for m in a_misses}
    assert (await seeded.get("/api/v1/catalog/search/misses", headers=b_admin)).json()["misses"] == []
