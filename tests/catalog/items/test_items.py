from __future__ import annotations

import asyncio

import httpx

from ...support import Tokens
from ..helpers import create_item, item_body

ITEMS = "/api/v1/catalog/items"


async def test_admin_creates_an_item_and_a_worker_reads_it_with_its_etag(
    seeded: httpx.AsyncClient, admin: dict[str, str], worker: dict[str, str]
) -> None:
    created = await create_item(seeded, admin, "new-item", fee={"free": False, "amount_yuan": 10, "basis": "示例"})
    assert created.headers["etag"]
    resp = await seeded.get(f"{ITEMS}/new-item", headers=worker)
    assert resp.status_code == 200
    body = resp.json()
    assert body["name"] == "测试事项"
    assert body["category_name"] == "养老与民生保障"
    assert body["fee"]["amount_yuan"] == 10
    assert body["published_version"] == 1
    assert resp.headers["etag"] == created.headers["etag"]


async def test_duplicate_code_is_409(seeded: httpx.AsyncClient, admin: dict[str, str]) -> None:
    resp = await seeded.post(ITEMS, json=item_body("elderly-allowance"), headers=admin)
    assert resp.status_code == 409
    assert resp.json()["code"] == "duplicate_code"


async def test_concurrent_creates_of_one_code_make_exactly_one(
    catalog: httpx.AsyncClient, admin: dict[str, str], catalog_app: object
) -> None:
    from doorstep_catalog.demo.service import seed

    async with catalog_app.state.sessionmaker() as session:  # type: ignore[attr-defined]
        await seed(session)
        await session.commit()
    results = await asyncio.gather(*(catalog.post(ITEMS, json=item_body("race-item"), headers=admin) for _ in range(4)))
    codes = sorted(r.status_code for r in results)
    assert codes.count(201) == 1
    assert set(codes) <= {201, 409}


async def test_unknown_fields_are_422(seeded: httpx.AsyncClient, admin: dict[str, str]) -> None:
    resp = await seeded.post(ITEMS, json=item_body("x-item", role="admin"), headers=admin)
    assert resp.status_code == 422
    assert any(e["field"] == "body.role" for e in resp.json()["errors"])


async def test_bad_code_unknown_category_and_oversized_fields_are_422(
    seeded: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    for body in (
        item_body("Bad Code"),
        item_body("ok-code", category="nope"),
        item_body("ok-code", name="长" * 101),
        item_body("ok-code", aliases=["a"] * 21),
        item_body("ok-code", trips=99),
    ):
        resp = await seeded.post(ITEMS, json=body, headers=admin)
        assert resp.status_code == 422, body


async def test_workers_cannot_write_items(seeded: httpx.AsyncClient, worker: dict[str, str]) -> None:
    resp = await seeded.post(ITEMS, json=item_body("w-item"), headers=worker)
    assert resp.status_code == 403
    assert resp.json()["code"] == "missing_permission"


async def test_drafts_are_visible_only_to_admins(
    seeded: httpx.AsyncClient, admin: dict[str, str], worker: dict[str, str], tokens: Tokens
) -> None:
    await create_item(seeded, admin, "draft-item", status="draft", name="草稿事项")
    assert (await seeded.get(f"{ITEMS}/draft-item", headers=worker)).status_code == 404
    assert (await seeded.get(f"{ITEMS}/draft-item", headers=admin)).status_code == 200
    client = tokens.headers(None, kind="client", scopes=("catalog:read",), communities=("chaoyang",))
    assert (await seeded.get(f"{ITEMS}/draft-item", headers=client)).status_code == 404
    listed = await seeded.get(ITEMS, params={"q": "草稿事项", "status": "draft"}, headers=worker)
    assert listed.json()["items"] == []
    listed = await seeded.get(ITEMS, params={"q": "草稿事项", "status": "draft"}, headers=admin)
    assert [i["code"] for i in listed.json()["items"]] == ["draft-item"]
    assert (await seeded.get(f"{ITEMS}/draft-item/versions", headers=worker)).status_code == 404


async def test_update_needs_if_match_and_a_stale_one_gets_412(seeded: httpx.AsyncClient, admin: dict[str, str]) -> None:
    read = await seeded.get(f"{ITEMS}/elderly-allowance", headers=admin)
    etag = read.headers["etag"]
    patch = {"reason": "调整简介", "summary": "新的简介"}
    missing = await seeded.patch(f"{ITEMS}/elderly-allowance", json=patch, headers=admin)
    assert missing.status_code == 428
    ok = await seeded.patch(f"{ITEMS}/elderly-allowance", json=patch, headers={**admin, "If-Match": etag})
    assert ok.status_code == 200
    assert ok.headers["etag"] != etag
    stale = await seeded.patch(
        f"{ITEMS}/elderly-allowance",
        json={"reason": "再改", "summary": "覆盖"},
        headers={**admin, "If-Match": etag},
    )
    assert stale.status_code == 412
    assert stale.json()["code"] == "stale_etag"
    final = await seeded.get(f"{ITEMS}/elderly-allowance", headers=admin)
    assert final.json()["summary"] == "新的简介"


async def test_two_admins_editing_at_once_one_wins_the_other_gets_412(
    seeded: httpx.AsyncClient, admin: dict[str, str], county_admin: dict[str, str]
) -> None:
    etag = (await seeded.get(f"{ITEMS}/dibao", headers=admin)).headers["etag"]
    first, second = await asyncio.gather(
        seeded.patch(
            f"{ITEMS}/dibao",
            json={"reason": "甲", "contact": "甲的电话"},
            headers={**admin, "If-Match": etag},
        ),
        seeded.patch(
            f"{ITEMS}/dibao",
            json={"reason": "乙", "department": "乙的部门"},
            headers={**county_admin, "If-Match": etag},
        ),
    )
    assert sorted([first.status_code, second.status_code]) == [200, 412]
    versions = (await seeded.get(f"{ITEMS}/dibao/versions", headers=admin)).json()["items"]
    assert len(versions) == 2  # the seed's and the winner's: nothing half-written


async def test_unpublishing_a_published_item_is_refused(seeded: httpx.AsyncClient, admin: dict[str, str]) -> None:
    etag = (await seeded.get(f"{ITEMS}/dibao", headers=admin)).headers["etag"]
    resp = await seeded.patch(
        f"{ITEMS}/dibao",
        json={"reason": "x", "status": "draft"},
        headers={**admin, "If-Match": etag},
    )
    assert resp.status_code == 409
    assert resp.json()["code"] == "invalid_transition"


async def test_categories_can_be_created_and_renamed_by_admins(
    seeded: httpx.AsyncClient, admin: dict[str, str], worker: dict[str, str]
) -> None:
    url = "/api/v1/catalog/categories"
    created = await seeded.post(url, json={"code": "misc", "name": "其他", "position": 9}, headers=admin)
    assert created.status_code == 201
    dup = await seeded.post(url, json={"code": "misc", "name": "其他"}, headers=admin)
    assert dup.status_code == 409
    renamed = await seeded.patch(
        f"{url}/misc",
        json={"name": "其他事项"},
        headers={**admin, "If-Match": created.headers["etag"]},
    )
    assert renamed.status_code == 200
    assert renamed.json()["name"] == "其他事项"
    assert (await seeded.post(url, json={"code": "x1", "name": "x"}, headers=worker)).status_code == 403
