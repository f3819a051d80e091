"""Demo data for the proxy service (idempotent)."""

from __future__ import annotations

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from doorstep_shared import org

from .models import Compound


async def seed(session: AsyncSession) -> None:
    existing = set((await session.exec(select(Compound.code))).all())
    for c in org.COMPOUNDS:
        if c.code not in existing:
            session.add(
                Compound(
                    code=c.code,
                    name=c.name,
                    community=c.community,
                    grid=c.grid,
                    buildings=c.buildings,
                    households=c.households,
                )
            )
