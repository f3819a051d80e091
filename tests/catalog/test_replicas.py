from __future__ import annotations

import httpx
from fastapi import FastAPI

from doorstep_catalog.items.index import CatalogIndex
from doorstep_shared.auth.security import declared_permissions, iter_api_routes

from .helpers import DEMO_COUNTY, create_item


async def test_another_replicas_index_sees_a_write_through_the_revision_counter(
    seeded: httpx.AsyncClient, catalog_app: FastAPI, admin: dict[str, str], worker: dict[str, str]
) -> None:
    other = CatalogIndex()  # a second replica's in-memory state
    async with catalog_app.state.sessionmaker() as session:
        before = (await other.current(session)).of(DEMO_COUNTY)
        assert "parcel" not in before.items
        again = (await other.current(session)).of(DEMO_COUNTY)
    assert again is before and other.builds == 1  # unchanged catalogue: no rebuild
    await create_item(seeded, admin, "parcel", name="快递代收")
    async with catalog_app.state.sessionmaker() as session:
        after = (await other.current(session)).of(DEMO_COUNTY)
    assert other.builds == 2
    assert [h.key for h in after.index.search("kuaidi")] == ["parcel"]


async def test_reads_do_not_rebuild_the_index(
    seeded: httpx.AsyncClient, catalog_app: FastAPI, worker: dict[str, str]
) -> None:
    holder: CatalogIndex = catalog_app.state.catalog_index
    await seeded.get("/api/v1/catalog/items", params={"q": "gl"}, headers=worker)
    builds = holder.builds
    for q in ("gaoling", "高龄", "残疾"):
        await seeded.get("/api/v1/catalog/items", params={"q": q}, headers=worker)
    await seeded.get("/api/v1/catalog/export", headers=worker)
    assert holder.builds == builds


def test_every_route_declares_a_permission_and_documents_itself(catalog_app: FastAPI) -> None:
    ids = set()
    for route in iter_api_routes(catalog_app):
        assert declared_permissions(route), route.path
        assert route.summary, route.path
        assert route.unique_id not in ids
        ids.add(route.unique_id)
    schema = catalog_app.openapi()
    assert "/api/v1/catalog/items/{code}" in schema["paths"]


async def test_concurrent_first_writes_all_count_on_the_revision_counter(
    catalog: httpx.AsyncClient, catalog_app: FastAPI, admin: dict[str, str]
) -> None:
    import asyncio

    from doorstep_catalog.items import repository

    results = await asyncio.gather(
        *(
            catalog.post("/api/v1/catalog/categories", json={"code": f"cat-{i}", "name": f"分类{i}"}, headers=admin)
            for i in range(4)
        )
    )
    assert [r.status_code for r in results] == [201] * 4
    async with catalog_app.state.sessionmaker() as session:
        _, revision = await repository.catalog_revision(session)
    assert revision == 4
