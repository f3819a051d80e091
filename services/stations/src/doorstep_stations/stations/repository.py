"""Every query of stations and their services."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from .models import Station, StationService


async def station_by_code(session: AsyncSession, code: str) -> Station | None:
    return (await session.exec(select(Station).where(Station.code == code))).first()


async def all_stations(session: AsyncSession) -> Sequence[Station]:
    stmt = select(Station).order_by(col(Station.code)).with_for_update()
    return (await session.exec(stmt)).all()


async def station_by_id(session: AsyncSession, station_id: int) -> Station | None:
    return await session.get(Station, station_id)


async def list_stations(
    session: AsyncSession,
    *,
    community: str | None = None,
    bbox: tuple[float, float, float, float] | None = None,
) -> Sequence[Station]:
    query = select(Station)
    if community is not None:
        query = query.where(Station.community == community)
    if bbox is not None:
        min_lat, max_lat, min_lon, max_lon = bbox
        query = query.where(
            col(Station.latitude).between(min_lat, max_lat),
            col(Station.longitude).between(min_lon, max_lon),
        )
    return (await session.exec(query.order_by(col(Station.code)))).all()


async def stations_by_ids(session: AsyncSession, ids: Collection[int]) -> dict[int, Station]:
    if not ids:
        return {}
    rows = (await session.exec(select(Station).where(col(Station.id).in_(list(ids))))).all()
    return {s.id: s for s in rows if s.id is not None}


async def services_of(session: AsyncSession, station_ids: Collection[int]) -> dict[int, list[StationService]]:
    out: dict[int, list[StationService]] = {i: [] for i in station_ids}
    if not station_ids:
        return out
    rows = (
        await session.exec(
            select(StationService)
            .where(col(StationService.station_id).in_(list(station_ids)))
            .order_by(col(StationService.station_id), col(StationService.code))
        )
    ).all()
    for svc in rows:
        out.setdefault(svc.station_id, []).append(svc)
    return out


async def service_by_code(session: AsyncSession, station_id: int, code: str) -> StationService | None:
    return (
        await session.exec(
            select(StationService).where(StationService.station_id == station_id, StationService.code == code)
        )
    ).first()


async def services_by_ids(session: AsyncSession, ids: Collection[int]) -> dict[int, StationService]:
    if not ids:
        return {}
    rows = (await session.exec(select(StationService).where(col(StationService.id).in_(list(ids))))).all()
    return {s.id: s for s in rows if s.id is not None}
