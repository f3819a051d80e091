"""Every proxy query. Tenancy (the caller's visible communities) is applied here."""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from doorstep_shared.tokens import Principal

from .models import Compound


async def list_compounds(session: AsyncSession, principal: Principal) -> Sequence[Compound]:
    stmt = select(Compound).order_by(col(Compound.community), col(Compound.code))
    visible = principal.visible_communities
    if visible is not None:
        stmt = stmt.where(col(Compound.community).in_(visible))
    return (await session.exec(stmt)).all()
