"""Demo data for stations (idempotent)."""

from __future__ import annotations

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from doorstep_shared import org

from .models import Station


async def seed(session: AsyncSession) -> None:
    existing = set((await session.exec(select(Station.code))).all())
    for c in org.COMPOUNDS:
        code = f"{c.code}-station"
        if code not in existing:
            session.add(
                Station(code=code, name=f"{c.name}党群驿站", community=c.community, compound=c.code)
            )
