"""A phone typed into a ticket's item or request comes back masked, in every spelling (#17 §5)."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text

from ...support import Tokens
from ..helpers import keeper, seed_demo

pytestmark = pytest.mark.dates

API = "/api/v1/stations"


async def test_ticket_item_and_request_are_masked_and_kept_as_typed(
    stations: httpx.AsyncClient, stations_app: FastAPI, tokens: Tokens
) -> None:
    await seed_demo(stations_app)
    body = {
        "service_code": "tailoring",
        "name": "李桂芳",
        "phone": "13912345678",
        "item": "蓝色裤子，儿子电话 +86 138-1234-5678",
        "request": "改短；身份证３４０５２３１９９００１０１１２３４",
    }
    made = await stations.post(f"{API}/stations/shuxiang/tickets", headers=keeper(tokens), json=body)
    assert made.status_code == 201, made.text
    listed = await stations.get(f"{API}/stations/shuxiang/tickets", headers=keeper(tokens))
    for resp in (made, listed):
        assert "1234-5678" not in resp.text and "１９９００１０１" not in resp.text
        assert "138****5678" in resp.text and "340523********1234" in resp.text
    async with stations_app.state.engine.connect() as conn:  # stored as typed
        stored = (await conn.execute(text("SELECT item FROM dropoff_ticket"))).scalars().all()
    assert body["item"] in stored
