"""Stations rules."""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel.ext.asyncio.session import AsyncSession

from . import repository
from .models import Station


async def stations(session: AsyncSession) -> Sequence[Station]:
    return await repository.list_stations(session)
