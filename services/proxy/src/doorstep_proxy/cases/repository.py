"""Every query for cases, materials, timelines, visits and the sync feed.

Tenancy (``tenancy.scoped``): a case or visit of a community the caller does not see is absent.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, func, insert, or_, select, tuple_
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from doorstep_shared.auth.tokens import Principal

from ..demands.models import Demand
from ..files.models import CaseFile
from ..ledger.models import Household, Resident
from ..tenancy import scoped
from ..versions import set_sequence_value
from .models import CLOSED_STATUSES, ProxyCase, ProxyCaseEvent, ProxyCaseMaterial, SyncTombstone, Visit, VisitCase
from .schemas import CaseQuery

# --- cases ----------------------------------------------------------------------------


async def get_case(
    session: AsyncSession, principal: Principal | None, case_id: uuid.UUID, *, for_update: bool = False
) -> ProxyCase | None:
    stmt = select(ProxyCase).where(col(ProxyCase.id) == case_id)
    if principal is not None:
        stmt = scoped(stmt, ProxyCase, principal)
    if for_update:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).scalar_one_or_none()


async def cases_by_ids(session: AsyncSession, principal: Principal, ids: Sequence[uuid.UUID]) -> list[ProxyCase]:
    if not ids:
        return []
    stmt = scoped(select(ProxyCase).where(col(ProxyCase.id).in_(list(ids))), ProxyCase, principal)
    return list((await session.execute(stmt)).scalars().all())


async def cases_map(session: AsyncSession, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, ProxyCase]:
    """Cases by id (no tenancy: for ids taken from records the caller already sees)."""
    out: dict[uuid.UUID, ProxyCase] = {}
    unique = list(dict.fromkeys(ids))
    for start in range(0, len(unique), 500):
        stmt = select(ProxyCase).where(col(ProxyCase.id).in_(unique[start : start + 500]))
        out.update({c.id: c for c in (await session.execute(stmt)).scalars().all()})
    return out


async def open_case_for(session: AsyncSession, resident_id: uuid.UUID, item_code: str) -> ProxyCase | None:
    stmt = (
        select(ProxyCase)
        .where(col(ProxyCase.resident_id) == resident_id)
        .where(col(ProxyCase.item_code) == item_code)
        .where(col(ProxyCase.status).not_in(CLOSED_STATUSES))
        .limit(1)
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def list_cases(
    session: AsyncSession, principal: Principal, q: CaseQuery, *, after: Sequence[Any] | None, limit: int
) -> list[ProxyCase]:
    """Newest first by acceptance, ``id`` breaking ties (the cursor)."""
    order = (col(ProxyCase.accepted_at).desc(), col(ProxyCase.id).desc())
    stmt = scoped(select(ProxyCase).order_by(*order).limit(limit), ProxyCase, principal)
    for column, value in (
        (ProxyCase.status, q.status),
        (ProxyCase.community, q.community),
        (ProxyCase.grid, q.grid),
        (ProxyCase.assigned_to, q.assigned_to),
        (ProxyCase.accepted_by, q.accepted_by),
        (ProxyCase.item_code, q.item_code),
        (ProxyCase.channel, q.channel),
        (ProxyCase.resident_id, q.resident_id),
    ):
        if value is not None:
            stmt = stmt.where(col(column) == value)
    if q.open_only or q.due_before or q.due_until:
        stmt = stmt.where(col(ProxyCase.status).not_in(CLOSED_STATUSES))
    if q.due_before:
        stmt = stmt.where(col(ProxyCase.due_date) < q.due_before)
    if q.due_from:
        stmt = stmt.where(col(ProxyCase.due_date) >= q.due_from)
    if q.due_until:
        stmt = stmt.where(col(ProxyCase.due_date) <= q.due_until)
    if after:
        at, last_id = after
        stmt = stmt.where(tuple_(col(ProxyCase.accepted_at), col(ProxyCase.id)) < tuple_(at, last_id))
    return list((await session.execute(stmt)).scalars().all())


async def save(session: AsyncSession, *objs: Any) -> None:
    session.add_all(objs)
    await session.flush()


async def add_event(session: AsyncSession, event: ProxyCaseEvent) -> None:
    session.add(event)
    await session.flush()


async def events_of(session: AsyncSession, case_id: uuid.UUID) -> list[ProxyCaseEvent]:
    stmt = (
        select(ProxyCaseEvent)
        .where(col(ProxyCaseEvent.case_id) == case_id)
        .order_by(col(ProxyCaseEvent.at), col(ProxyCaseEvent.id))
    )
    return list((await session.execute(stmt)).scalars().all())


async def insert_materials(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    if rows:
        await session.execute(insert(ProxyCaseMaterial), rows)


async def materials_of(
    session: AsyncSession, case_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[ProxyCaseMaterial]]:
    out: dict[uuid.UUID, list[ProxyCaseMaterial]] = {cid: [] for cid in case_ids}
    ids = list(case_ids)
    for start in range(0, len(ids), 500):
        stmt = (
            select(ProxyCaseMaterial)
            .where(col(ProxyCaseMaterial.case_id).in_(ids[start : start + 500]))
            .order_by(col(ProxyCaseMaterial.case_id), col(ProxyCaseMaterial.position))
        )
        for m in (await session.execute(stmt)).scalars().all():
            out.setdefault(m.case_id, []).append(m)
    return out


async def get_material(session: AsyncSession, case_id: uuid.UUID, position: int) -> ProxyCaseMaterial | None:
    stmt = select(ProxyCaseMaterial).where(
        col(ProxyCaseMaterial.case_id) == case_id, col(ProxyCaseMaterial.position) == position
    )
    return (await session.execute(stmt)).scalar_one_or_none()


# --- visits ---------------------------------------------------------------------------


async def get_visit(
    session: AsyncSession, principal: Principal | None, visit_id: uuid.UUID, *, for_update: bool = False
) -> Visit | None:
    stmt = select(Visit).where(col(Visit.id) == visit_id)
    if principal is not None:
        stmt = scoped(stmt, Visit, principal)
    if for_update:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).scalar_one_or_none()


async def link_cases(session: AsyncSession, visit_id: uuid.UUID, case_ids: Sequence[uuid.UUID]) -> None:
    await session.execute(insert(VisitCase), [{"visit_id": visit_id, "case_id": c} for c in case_ids])


async def case_ids_of_visits(session: AsyncSession, visit_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[uuid.UUID]]:
    out: dict[uuid.UUID, list[uuid.UUID]] = {v: [] for v in visit_ids}
    ids = list(visit_ids)
    for start in range(0, len(ids), 500):
        stmt = (
            select(col(VisitCase.visit_id), col(VisitCase.case_id))
            .where(col(VisitCase.visit_id).in_(ids[start : start + 500]))
            .order_by(col(VisitCase.visit_id), col(VisitCase.case_id))
        )
        for vid, cid in (await session.execute(stmt)).all():
            out.setdefault(vid, []).append(cid)
    return out


async def list_visits(
    session: AsyncSession,
    principal: Principal,
    *,
    worker: str | None,
    date_from: dt.date,
    date_to: dt.date,
    limit: int = 500,
) -> list[Visit]:
    """Visits in [date_from, date_to] ordered by day, compound, building, unit, room."""
    stmt = (
        select(Visit)
        .where(col(Visit.planned_date) >= date_from, col(Visit.planned_date) <= date_to)
        .order_by(
            col(Visit.planned_date),
            col(Visit.compound_code),
            col(Visit.building),
            col(Visit.unit),
            col(Visit.room),
            col(Visit.window_start),
            col(Visit.id),
        )
        .limit(limit)
    )
    stmt = scoped(stmt, Visit, principal)
    if worker is not None:
        stmt = stmt.where(col(Visit.worker) == worker)
    return list((await session.execute(stmt)).scalars().all())


async def delete_visit(session: AsyncSession, visit: Visit) -> None:
    await session.execute(delete(VisitCase).where(col(VisitCase.visit_id) == visit.id))
    await session.execute(delete(Visit).where(col(Visit.id) == visit.id))


async def add_tombstone(session: AsyncSession, stone: SyncTombstone) -> None:
    session.add(stone)
    await session.flush()


# --- sync -----------------------------------------------------------------------------

# The feed merges several tables ordered by (row_version, entity rank, id); the rank breaks ties
# between records of different tables that share a row_version (bulk writes share one).
SYNC_ENTITIES = ("resident", "household", "case", "visit", "demand", "tombstone")
_SYNC_MODELS: dict[str, Any] = {
    "resident": Resident,
    "household": Household,
    "case": ProxyCase,
    "visit": Visit,
    "demand": Demand,
    "tombstone": SyncTombstone,
}


async def sync_rows(
    session: AsyncSession,
    principal: Principal,
    entity: str,
    *,
    after: tuple[int, int, str],
    limit: int,
) -> list[Any]:
    """Rows of one table after the cursor (row_version, rank, id), in feed order, scoped."""
    model = _SYNC_MODELS[entity]
    rank = SYNC_ENTITIES.index(entity)
    version, crank, cid = after
    rv = col(model.row_version)
    id_col = col(model.id)
    stmt = select(model).order_by(rv, id_col).limit(limit)
    if rank < crank:
        stmt = stmt.where(rv > version)
    elif rank > crank:
        stmt = stmt.where(rv >= version)
    else:
        key: Any = int(cid) if entity == "tombstone" else _uuid_or_min(cid)
        stmt = stmt.where(or_(rv > version, (rv == version) & (id_col > key)))
    stmt = scoped(stmt, model, principal)
    return list((await session.execute(stmt)).scalars().all())


def _uuid_or_min(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        return uuid.UUID(int=0)


async def purge_tombstones(session: AsyncSession, before: dt.datetime) -> int:
    """Delete tombstones older than ``before``; raises the floor below which cursors expire."""
    top = (
        await session.execute(
            select(func.max(col(SyncTombstone.row_version))).where(col(SyncTombstone.deleted_at) < before)
        )
    ).scalar_one_or_none()
    if top is None:
        return 0
    result = await session.execute(delete(SyncTombstone).where(col(SyncTombstone.row_version) <= top))
    await set_sequence_value(session, "tombstone_floor", int(top) + 1)
    return int(getattr(result, "rowcount", 0) or 0)


async def has_ready_file(session: AsyncSession, case_id: uuid.UUID, position: int) -> bool:
    """Whether a finished photo or scan is attached to this material (the evidence rule)."""
    stmt = select(col(CaseFile.id)).where(
        col(CaseFile.case_id) == case_id, col(CaseFile.position) == position, col(CaseFile.status) == "ready"
    )
    return (await session.execute(stmt.limit(1))).first() is not None
