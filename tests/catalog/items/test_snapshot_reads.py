"""Hot reads from the in-process snapshot: item reads and categories answer from memory, with
the ETags and permissions of the database path, see this process's writes at once and another
replica's at the next revision check."""

from __future__ import annotations

import json

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text

from doorstep_catalog.http import CACHE, item_etag
from doorstep_catalog.items import repository
from doorstep_catalog.items.index import CatalogIndex
from doorstep_catalog.items.schemas import CategoryRead, item_read
from doorstep_shared.http.compression import encoded

from ..helpers import DEMO_COUNTY

ITEMS = "/api/v1/catalog/items"


async def test_an_edit_is_served_at_once_and_a_stale_body_never(
    seeded: httpx.AsyncClient, admin: dict[str, str], worker: dict[str, str]
) -> None:
    first = await seeded.get(f"{ITEMS}/elderly-allowance", headers=worker)
    again = await seeded.get(f"{ITEMS}/elderly-allowance", headers=worker)
    assert again.content == first.content and again.headers["etag"] == first.headers["etag"]
    edit = await seeded.patch(
        f"{ITEMS}/elderly-allowance",
        json={"reason": "政策调整", "summary": "新的简介"},
        headers={**admin, "If-Match": first.headers["etag"]},
    )
    assert edit.status_code == 200
    for _ in range(3):  # every read after the write: the new version, never the old one
        read = await seeded.get(f"{ITEMS}/elderly-allowance", headers=worker)
        assert read.json()["summary"] == "新的简介"
        assert read.headers["etag"] == edit.headers["etag"] != first.headers["etag"]
    stale = await seeded.get(f"{ITEMS}/elderly-allowance", headers={**worker, "If-None-Match": first.headers["etag"]})
    assert stale.status_code == 200  # the old ETag no longer matches
    current = await seeded.get(f"{ITEMS}/elderly-allowance", headers={**worker, "If-None-Match": edit.headers["etag"]})
    assert current.status_code == 304


async def test_item_and_categories_answer_as_the_database_says(
    seeded: httpx.AsyncClient, catalog_app: FastAPI, worker: dict[str, str]
) -> None:
    read = await seeded.get(f"{ITEMS}/pension-face-check", headers=worker)
    categories = await seeded.get("/api/v1/catalog/categories", headers=worker)
    async with catalog_app.state.sessionmaker() as session:
        rows = {item.code: (item, code, name) for item, code, name in await repository.all_items(session)}
        stored = [
            CategoryRead.model_validate(c).model_dump(mode="json") for c in await repository.list_categories(session)
        ]
    item, category_code, category_name = rows["pension-face-check"]
    assert read.headers["etag"].removeprefix("W/") == item_etag(item)  # weak once compressed
    assert read.json() == json.loads(item_read(item, category_code, category_name).model_dump_json())
    assert read.headers["content-type"] == "application/json"
    assert categories.status_code == 200 and categories.json() == stored


@pytest.mark.parametrize("codec", ["gzip", "br", "zstd"])
async def test_a_snapshot_body_is_compressed_once_and_revalidates_with_its_weak_etag(
    seeded: httpx.AsyncClient, worker: dict[str, str], codec: str
) -> None:
    plain = await seeded.get(f"{ITEMS}/elderly-allowance", headers={**worker, "Accept-Encoding": "identity"})
    first = await seeded.get(f"{ITEMS}/elderly-allowance", headers={**worker, "Accept-Encoding": codec})
    kept = len(encoded)
    again = await seeded.get(f"{ITEMS}/elderly-allowance", headers={**worker, "Accept-Encoding": codec})
    assert first.headers["content-encoding"] == again.headers["content-encoding"] == codec
    assert first.content == again.content == plain.content  # httpx decodes each
    assert len(encoded) == kept  # the second answer came from the kept encoding
    assert (plain.content, codec) in encoded._kept  # the route's own: not the middleware's per request
    assert first.headers["etag"] == f"W/{plain.headers['etag']}" and first.headers["cache-control"] == CACHE
    weak = {**worker, "Accept-Encoding": codec, "If-None-Match": first.headers["etag"]}
    assert (await seeded.get(f"{ITEMS}/elderly-allowance", headers=weak)).status_code == 304
    export = await seeded.get("/api/v1/catalog/export", headers={**worker, "Accept-Encoding": codec})
    assert export.headers["content-encoding"] == codec and export.json()["items"]
    page = {"limit": 50}
    browse = await seeded.get(ITEMS, params=page, headers={**worker, "Accept-Encoding": codec})
    plain_page = await seeded.get(ITEMS, params=page, headers={**worker, "Accept-Encoding": "identity"})
    assert browse.headers["content-encoding"] == codec and browse.content == plain_page.content
    assert (plain_page.content, codec) in encoded._kept  # a browsing page is kept per revision too


async def test_reads_still_need_a_token_and_drafts_stay_an_admins(
    seeded: httpx.AsyncClient, admin: dict[str, str], worker: dict[str, str]
) -> None:
    for path in (f"{ITEMS}/elderly-allowance", "/api/v1/catalog/categories", ITEMS):
        resp = await seeded.get(path)
        assert resp.status_code == 401 and resp.headers["content-type"] == "application/problem+json"
    created = await seeded.post(
        ITEMS,
        json={"code": "draft-only", "name": "草稿事项", "category": "elderly-livelihood", "status": "draft"},
        headers=admin,
    )
    assert created.status_code == 201
    assert (await seeded.get(f"{ITEMS}/draft-only", headers=worker)).status_code == 404
    assert (await seeded.get(f"{ITEMS}/draft-only", headers=admin)).status_code == 200


async def test_another_replicas_write_is_seen_at_the_next_revision_check(
    seeded: httpx.AsyncClient, catalog_app: FastAPI
) -> None:
    sessions = catalog_app.state.sessionmaker
    patient = CatalogIndex(check_interval=3600.0)  # a replica that re-reads the revision hourly
    eager = CatalogIndex(check_interval=0.0)  # one that re-reads it on every read
    before = (await patient.served(sessions)).of(DEMO_COUNTY)
    assert (await patient.served(sessions)).of(DEMO_COUNTY) is before and patient.checks == 1  # no query in between
    await eager.served(sessions)
    # Another replica publishes: the row changes in the database, not through this process.
    async with catalog_app.state.engine.begin() as conn:
        await conn.execute(text("UPDATE item SET name = '另一副本的修改', version = version + 1 WHERE code = 'dibao'"))
        await conn.execute(text("UPDATE catalog_state SET revision = revision + 1"))
    assert (await patient.served(sessions)).of(DEMO_COUNTY) is before  # within its interval: the snapshot it has
    assert (await eager.served(sessions)).of(DEMO_COUNTY).items["dibao"].name == "另一副本的修改"
    patient.expire()  # the interval is over
    after = (await patient.served(sessions)).of(DEMO_COUNTY)
    assert after.items["dibao"].name == "另一副本的修改" and after.revision == before.revision + 1
    assert after.item_body("dibao")[1] != before.item_body("dibao")[1]  # a new ETag with the new body


async def test_a_browsing_page_follows_a_new_item_at_once(
    seeded: httpx.AsyncClient, admin: dict[str, str], worker: dict[str, str]
) -> None:
    params = {"category": "elderly-livelihood", "limit": 100}
    before = await seeded.get(ITEMS, params=params, headers=worker)
    assert (await seeded.get(ITEMS, params=params, headers=worker)).content == before.content
    created = await seeded.post(
        ITEMS,
        json={"code": "aaa-first", "name": "新事项", "category": "elderly-livelihood", "status": "published"},
        headers=admin,
    )
    assert created.status_code == 201
    after = (await seeded.get(ITEMS, params=params, headers=worker)).json()
    assert [i["code"] for i in after["items"]] == ["aaa-first", *(i["code"] for i in before.json()["items"])]
    assert after["items"][0]["version"] == 1 and after["next_cursor"] is None and after["search_id"] is None
