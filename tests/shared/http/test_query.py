"""Unknown query parameters are a 422 naming them; declared ones (aliases, dependencies'
parameters, parameter models, a route class's protocol extras) pass."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

import httpx
import pytest
from fastapi import APIRouter, Depends, FastAPI, Query
from fastapi.routing import APIRoute
from pydantic import BaseModel, Field

from doorstep_shared.http.errors import install_error_handlers
from doorstep_shared.http.query import reject_unknown_query


class Filters(BaseModel):
    status: str | None = None
    grid: str | None = Field(default=None, alias="grid-code")


class ProtocolRoute(APIRoute):
    extra_query_parameters = frozenset({"api_key"})


def paging(limit: int = 50) -> int:
    return limit


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    app = FastAPI(dependencies=[Depends(reject_unknown_query)])
    install_error_handlers(app)

    @app.get("/leads")
    async def leads(
        item: Annotated[str | None, Query(alias="item-code")] = None, limit: int = Depends(paging)
    ) -> dict[str, object]:
        return {"item": item, "limit": limit}

    @app.get("/filtered")
    async def filtered(filters: Annotated[Filters, Query()]) -> dict[str, object]:
        return filters.model_dump(by_alias=True)

    protocol = APIRouter(route_class=ProtocolRoute)

    @protocol.get("/protocol")
    async def protocol_call() -> dict[str, str]:
        return {"ok": "yes"}

    app.include_router(protocol)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        yield c


async def test_declared_parameters_pass(client: httpx.AsyncClient) -> None:
    resp = await client.get("/leads", params={"item-code": "care", "limit": 5})
    assert resp.json() == {"item": "care", "limit": 5}
    resp = await client.get("/filtered", params={"status": "open", "grid-code": "g6"})
    assert resp.json() == {"status": "open", "grid-code": "g6"}
    assert (await client.get("/protocol", params={"api_key": "k"})).status_code == 200


async def test_an_unknown_parameter_is_a_422_naming_it_once(client: httpx.AsyncClient) -> None:
    resp = await client.get("/leads?resident_id=1&resident_id=2&item=care", headers={"Accept-Language": "en"})
    assert resp.status_code == 422
    assert resp.headers["content-type"] == "application/problem+json"
    problem = resp.json()
    assert problem["code"] == "validation_failed"
    assert [(e["field"], e["type"]) for e in problem["errors"]] == [
        ("query.resident_id", "extra_forbidden"),
        ("query.item", "extra_forbidden"),  # the Python name is not the parameter: the alias is
    ]
    assert "query.resident_id" in problem["detail"]
    zh = (await client.get("/filtered?grid=g6")).json()
    assert zh["errors"] == [{"field": "query.grid", "message": "不接受此字段或参数", "type": "extra_forbidden"}]
    assert zh["detail"] == "输入有误：query.grid"


async def test_protocol_extras_belong_to_their_route_class_only(client: httpx.AsyncClient) -> None:
    assert (await client.get("/leads", params={"api_key": "k"})).status_code == 422
