"""The demo's own queries: which items exist already."""

from __future__ import annotations

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from ..items.models import Item


async def item_codes(session: AsyncSession) -> set[str]:
    return set((await session.exec(select(Item.code))).all())


async def items_by_code(session: AsyncSession) -> dict[str, Item]:
    return {i.code: i for i in (await session.exec(select(Item))).all()}
