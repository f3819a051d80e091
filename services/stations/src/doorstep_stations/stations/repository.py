"""Every query of stations and their services, and the revision counter of what the hot reads
show (``stations_state``)."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import event, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from .models import Station, StationService, StationsRevision

# ---------------------------------------------------------------- revision counter

# A Core select of the two columns, built once (no ORM entity; SQLAlchemy caches its compiled form).
_STATE = StationsRevision.__table__  # type: ignore[attr-defined]
_REVISION = select(_STATE.c.epoch, _STATE.c.revision)

# Revision bumps committed by this process, per engine (each app instance has its own, so two
# instances in one process see each other only through the revision, as two processes do): a
# snapshot re-checks the revision at once after one (read-your-writes).
_committed: WeakKeyDictionary[Any, int] = WeakKeyDictionary()


def committed_bumps(engine: Any) -> int:
    """How many revision bumps this process has committed on ``engine`` (the sync engine)."""
    return _committed.get(engine, 0) if engine is not None else 0


def _count_commit(session: Session) -> None:
    engine = session.bind
    _committed[engine] = _committed.get(engine, 0) + 1


async def stations_revision(session: AsyncSession) -> tuple[str, int]:
    """(epoch, revision); ("", 0) before the first write."""
    row = (await session.exec(_REVISION)).first()
    return (row[0], row[1]) if row else ("", 0)


async def bump_revision(session: AsyncSession) -> None:
    """+1 in the writer's transaction (creating the row race-free the first time); counted in
    ``committed_bumps`` when (if) the transaction commits."""
    sync = session.sync_session
    if not sync.info.get("counts_stations_revision"):
        sync.info["counts_stations_revision"] = True
        event.listen(sync, "after_commit", _count_commit)
    for _ in range(2):
        result = await session.exec(
            update(StationsRevision).where(col(StationsRevision.id) == 1).values(revision=StationsRevision.revision + 1)
        )
        if result.rowcount:
            return
        dialect = (await session.connection()).dialect.name
        insert = pg_insert if dialect == "postgresql" else sqlite_insert
        await session.exec(
            insert(StationsRevision)
            .values(id=1, epoch=uuid.uuid4().hex, revision=0)
            .on_conflict_do_nothing(index_elements=["id"])
        )


# ---------------------------------------------------------------- stations and services


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


async def all_services(session: AsyncSession) -> Sequence[StationService]:
    """Every station's services, in the order ``services_of`` gives them (station, code)."""
    stmt = select(StationService).order_by(col(StationService.station_id), col(StationService.code))
    return (await session.exec(stmt)).all()


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
