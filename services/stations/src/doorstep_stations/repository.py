"""Every stations query."""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from .models import Station


async def list_stations(session: AsyncSession) -> Sequence[Station]:
    return (
        await session.exec(select(Station).order_by(col(Station.community), col(Station.code)))
    ).all()
