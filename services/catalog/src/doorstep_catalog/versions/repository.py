"""Every versions query: an item's published versions, and the changes feed over all items."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ..items.models import Item, ItemVersion


async def versions_of(session: AsyncSession, item_id: int, *, before: int | None, limit: int) -> Sequence[ItemVersion]:
    stmt = select(ItemVersion).where(ItemVersion.item_id == item_id)
    if before is not None:
        stmt = stmt.where(col(ItemVersion.number) < before)
    stmt = stmt.order_by(col(ItemVersion.number).desc()).limit(limit)
    return (await session.exec(stmt)).all()


async def version_of(session: AsyncSession, item_id: int, number: int) -> ItemVersion | None:
    stmt = select(ItemVersion).where(ItemVersion.item_id == item_id, ItemVersion.number == number)
    return (await session.exec(stmt)).first()


async def changes(
    session: AsyncSession,
    county: str,
    *,
    after_id: int | None,
    since: dt.datetime | None,
    limit: int,
    item_ids: Collection[int] | None = None,
) -> Sequence[tuple[ItemVersion, str]]:
    stmt = (
        select(ItemVersion, Item.code)
        .join(Item, col(Item.id) == col(ItemVersion.item_id))
        .where(col(Item.county) == county)
    )
    if after_id is not None:
        stmt = stmt.where(col(ItemVersion.id) > after_id)
    if since is not None:
        stmt = stmt.where(col(ItemVersion.changed_at) >= since)
    if item_ids is not None:
        stmt = stmt.where(col(ItemVersion.item_id).in_(list(item_ids)))
    stmt = stmt.order_by(col(ItemVersion.id)).limit(limit)
    return (await session.exec(stmt)).all()


async def last_change_id(session: AsyncSession, county: str) -> int:
    stmt = (
        select(func.max(ItemVersion.id))
        .join(Item, col(Item.id) == col(ItemVersion.item_id))
        .where(col(Item.county) == county)
    )
    value = (await session.exec(stmt)).first()
    return int(value or 0)
