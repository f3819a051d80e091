"""Every notification query. Tenancy (``visible``: communities, None = all) is applied here."""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ..tenancy import Visible, visible_to
from .models import Notification


async def notification_exists(session: AsyncSession, outbox_id: int) -> bool:
    found = (await session.exec(select(Notification.id).where(Notification.outbox_id == outbox_id))).first()
    return found is not None


async def list_notifications(
    session: AsyncSession,
    visible: Visible,
    *,
    station_id: int | None,
    before_id: int | None,
    limit: int,
) -> Sequence[Notification]:
    query = select(Notification).where(visible_to(col(Notification.community), visible))
    if station_id is not None:
        query = query.where(Notification.station_id == station_id)
    if before_id is not None:
        query = query.where(col(Notification.id) < before_id)
    return (await session.exec(query.order_by(col(Notification.id).desc()).limit(limit + 1))).all()
