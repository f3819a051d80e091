"""Every machine-client query."""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from .models import ApiClient


async def client_by_id(session: AsyncSession, client_id: str, *, for_update: bool = False) -> ApiClient | None:
    return await session.get(ApiClient, client_id, with_for_update=for_update)


async def list_clients(session: AsyncSession) -> Sequence[ApiClient]:
    return (await session.exec(select(ApiClient).order_by(col(ApiClient.client_id)))).all()


async def save(session: AsyncSession, client: ApiClient) -> None:
    session.add(client)
    await session.flush()
