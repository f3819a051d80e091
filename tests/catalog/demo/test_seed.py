from __future__ import annotations

import httpx
from fastapi import FastAPI
from sqlalchemy import func
from sqlmodel import select

from doorstep_catalog.demo.handbook import ITEMS, R
from doorstep_catalog.demo.service import seed
from doorstep_catalog.items.models import Item, ItemVersion
from doorstep_catalog.tips.models import Tip
from doorstep_shared.rules import validate


async def test_seed_is_the_full_handbook_and_idempotent(seeded: httpx.AsyncClient, catalog_app: FastAPI) -> None:
    async with catalog_app.state.sessionmaker() as session:
        await seed(session)  # a second run changes nothing
        await session.commit()
        items = (await session.exec(select(func.count()).select_from(Item))).one()
        proxy = (await session.exec(select(func.count()).select_from(Item).where(Item.proxy_eligible))).one()
        versions = (await session.exec(select(func.count()).select_from(ItemVersion))).one()
        tips = (await session.exec(select(func.count()).select_from(Tip))).one()
    assert (items, proxy, versions, tips) == (68, 18, 68, 8)


def test_every_seeded_rule_is_valid_and_every_proxy_item_goes_to_the_door() -> None:
    for name, rule in R.items():
        assert validate(rule) == [], name
    codes = [row[0] for row in ITEMS]
    assert len(codes) == len(set(codes)) == 68
    assert sum(1 for row in ITEMS if row[4]) == 18
    with_rules = [row for row in ITEMS if row[11]]
    assert len(with_rules) >= 39
    for row in ITEMS:
        assert "（示例" not in row[1]  # names are real item names; demo marks go in the summary


async def test_seeded_items_read_as_demo_text_with_real_citations_only(
    seeded: httpx.AsyncClient, worker: dict[str, str]
) -> None:
    item = (await seeded.get("/api/v1/catalog/items/severe-disability-care-subsidy", headers=worker)).json()
    assert item["summary"].endswith("（示例文本）")
    assert item["policy_basis"][0]["number"] == "国发〔2015〕52号"
    assert item["proxy_eligible"] and "doorstep" in item["channels"]
    assert any(m["form"] == "copy" for m in item["materials"])
