"""Every directory query."""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from .models import Community, Grid


async def list_communities(session: AsyncSession) -> Sequence[Community]:
    return (await session.exec(select(Community).order_by(col(Community.code)))).all()


async def list_grids(session: AsyncSession) -> Sequence[Grid]:
    return (await session.exec(select(Grid).order_by(col(Grid.community), col(Grid.number)))).all()
