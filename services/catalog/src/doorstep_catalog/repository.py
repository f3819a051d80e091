"""Every catalog query."""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from .models import Category


async def list_categories(session: AsyncSession) -> Sequence[Category]:
    result = await session.exec(select(Category).order_by(Category.position, Category.code))  # type: ignore[arg-type]
    return result.all()
