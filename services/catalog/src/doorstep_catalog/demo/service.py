"""Loads the demo handbook (``handbook``): categories, published items with their first version,
and tips, as the handbook of the demo county: the one county of the demo directory file
(``doorstep_shared.directory.demo_directory_file``, the data ``make run`` imports), so no
county is named in code. Idempotent: a second run changes nothing."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from doorstep_shared.clock import utcnow
from doorstep_shared.directory import demo_directory_file
from doorstep_shared.directory_copy import read_directory_file

from ..items import service as items_service
from ..items.models import Category, Item, ItemVersion
from ..items.schemas import item_read
from ..search import service as search_service
from ..tips import service as tips_service
from ..tips.models import Tip
from . import repository as repo
from .handbook import CATEGORIES, ITEMS, SYNONYMS, TIPS, item_content

SEED_USER = "seed"


def demo_county() -> str:
    """The county of the demo directory file (it has exactly one)."""
    counties = read_directory_file(demo_directory_file()).counties
    if len(counties) != 1:
        raise ValueError(f"the demo directory file should name one county, not {len(counties)}")
    return counties[0].code


async def seed(session: AsyncSession, county: str | None = None) -> None:
    """The demo handbook as ``county``'s (the demo county's by default)."""
    county = county or demo_county()
    categories = {c.code: c for c in await items_service.categories(session)}
    changed = False
    for position, (code, name, description) in enumerate(CATEGORIES):
        if code not in categories:
            category = Category(code=code, name=name, description=description, position=position)
            session.add(category)
            categories[code] = category
            changed = True
    await session.flush()
    existing = await repo.item_codes(session, county)
    now = utcnow()
    for row in ITEMS:
        code, name, category_code, content = item_content(row)
        if code in existing:
            continue
        category = categories[category_code]
        item = Item(
            county=county,
            code=code,
            name=name,
            category_id=category.id or 0,
            status="published",
            proxy_eligible=bool(content["proxy_eligible"]),
            channel_tags="," + ",".join(content["channels"]) + ",",
            content=content,
            published_version=1,
            created_at=now,
            updated_at=now,
            updated_by=SEED_USER,
        )
        session.add(item)
        await session.flush()
        snapshot = item_read(item, category.code, category.name).model_dump(mode="json")
        session.add(
            ItemVersion(
                item_id=item.id or 0,
                number=1,
                status="published",
                kind="created",
                reason="手册初始录入",
                changed_by=SEED_USER,
                changed_at=now,
                changed_fields=[],
                snapshot=snapshot,
            )
        )
        changed = True
    await session.flush()
    items = await repo.items_by_code(session, county)
    for code, body in TIPS:
        tip_item = items.get(code)
        if tip_item is None or await tips_service.tip_exists(session, tip_item.id or 0, body):
            continue
        session.add(
            Tip(
                item_id=tip_item.id or 0,
                body=body,
                author="zhenhuai.worker",
                community="zhenhuai",
                created_at=now,
            )
        )
    if await search_service.seed_synonyms(session, [g.split() for g in SYNONYMS]):
        changed = True
    if changed:
        await items_service.catalogue_changed(session)
    await session.flush()
