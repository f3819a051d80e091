from __future__ import annotations

import httpx

from doorstep_catalog.demo.service import seed

from ...support import Tokens


async def test_categories_need_a_token(catalog: httpx.AsyncClient) -> None:
    resp = await catalog.get("/api/v1/catalog/categories")
    assert resp.status_code == 401
    assert resp.headers["content-type"] == "application/problem+json"
    assert resp.json()["code"] == "missing_token"


async def test_worker_lists_the_five_seeded_categories(catalog: httpx.AsyncClient, tokens: Tokens) -> None:
    app = catalog._transport.app  # type: ignore[attr-defined]
    async with app.state.sessionmaker() as session:
        await seed(session)
        await session.commit()
    resp = await catalog.get("/api/v1/catalog/categories", headers=tokens.headers("social_worker"))
    assert resp.status_code == 200
    names = [c["name"] for c in resp.json()]
    assert len(names) == 5
    assert "残疾人服务" in names
