"""Every opening-hours query."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from sqlalchemy import delete
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from .models import HoursException, HoursRule


async def hours_rules(session: AsyncSession, station_ids: Collection[int] | None) -> Sequence[HoursRule]:
    """The rules of ``station_ids`` (None: of every station)."""
    stmt = select(HoursRule)
    if station_ids is not None:
        stmt = stmt.where(col(HoursRule.station_id).in_(list(station_ids)))
    stmt = stmt.order_by(
        col(HoursRule.station_id),
        col(HoursRule.service_id),
        col(HoursRule.effective_from),
        col(HoursRule.weekday),
        col(HoursRule.opens),
    )
    return (await session.exec(stmt)).all()


async def hours_exceptions(session: AsyncSession, station_ids: Collection[int] | None) -> Sequence[HoursException]:
    """The exceptions of ``station_ids`` (None: of every station)."""
    stmt = select(HoursException)
    if station_ids is not None:
        stmt = stmt.where(col(HoursException.station_id).in_(list(station_ids)))
    return (await session.exec(stmt.order_by(col(HoursException.start_date), col(HoursException.id)))).all()


async def delete_rule(session: AsyncSession, station_id: int, rule_id: int) -> bool:
    result = await session.exec(
        delete(HoursRule).where(col(HoursRule.id) == rule_id, col(HoursRule.station_id) == station_id)
    )
    return bool(result.rowcount)


async def delete_exception(session: AsyncSession, station_id: int, exc_id: int) -> bool:
    result = await session.exec(
        delete(HoursException).where(col(HoursException.id) == exc_id, col(HoursException.station_id) == station_id)
    )
    return bool(result.rowcount)
