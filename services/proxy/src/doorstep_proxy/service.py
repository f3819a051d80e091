"""Proxy rules."""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel.ext.asyncio.session import AsyncSession

from doorstep_shared.tokens import Principal

from . import repository
from .models import Compound


async def compounds(session: AsyncSession, principal: Principal) -> Sequence[Compound]:
    return await repository.list_compounds(session, principal)
