"""Directory rules: communities with their grids; the staff a caller may see."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from doorstep_shared.auth.tokens import Principal

from ..identity import service as identity
from . import repository
from .schemas import CommunityRead, GridRead, UserRead


async def communities(session: AsyncSession) -> list[CommunityRead]:
    grids = await repository.list_grids(session)
    by_community: dict[str, list[GridRead]] = {}
    for g in grids:
        by_community.setdefault(g.community, []).append(GridRead.model_validate(g))
    return [
        CommunityRead(code=c.code, name=c.name, placeholder=c.placeholder, grids=by_community.get(c.code, []))
        for c in await repository.list_communities(session)
    ]


async def staff_visible_to(session: AsyncSession, principal: Principal) -> list[UserRead]:
    """Users of the caller's own community; county roles see their county's."""
    users = await identity.staff(session, principal.visible_communities, principal.county)
    return [UserRead.model_validate(u) for u in users]
