"""Catalog rules."""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel.ext.asyncio.session import AsyncSession

from . import repository
from .models import Category


async def categories(session: AsyncSession) -> Sequence[Category]:
    return await repository.list_categories(session)
