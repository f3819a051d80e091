"""The demo's own queries: which items exist already."""

from __future__ import annotations

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from ..items.models import Item


async def item_codes(session: AsyncSession, county: str) -> set[str]:
    return set((await session.exec(select(Item.code).where(Item.county == county))).all())


async def items_by_code(session: AsyncSession, county: str) -> dict[str, Item]:
    return {i.code: i for i in (await session.exec(select(Item).where(Item.county == county))).all()}
