"""Every query for cases, materials, timelines, visits and the sync feed.

Tenancy (``tenancy.scoped``): a case or visit of a community the caller does not see is absent.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Row, delete, func, insert, or_, select
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from doorstep_shared.auth.tokens import Principal

from ..demands.models import Demand
from ..files.models import CaseFile
from ..ledger.models import Compound, Household, Resident
from ..ledger.schemas import READ_FIELDS
from ..tenancy import scoped
from ..versions import set_sequence_value
from .models import CLOSED_STATUSES, ProxyCase, ProxyCaseEvent, ProxyCaseMaterial, SyncTombstone, Visit, VisitCase

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


async def lock_cases(session: AsyncSession, principal: Principal, ids: Sequence[uuid.UUID]) -> None:
    """Lock these cases (those the caller sees) for this transaction, in id order, so that two
    writers locking overlapping sets queue instead of deadlocking. Writers that take a change
    number lock their cases first, as a case's own update does (the case, then the number)."""
    if not ids:
        return
    stmt = select(col(ProxyCase.id)).where(col(ProxyCase.id).in_(sorted(set(ids)))).order_by(col(ProxyCase.id))
    await session.execute(scoped(stmt, ProxyCase, principal).with_for_update())


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


# What a case's read shows (a Core row: no ORM instance, identity map or change tracking per row).
_CASES = ProxyCase.__table__  # type: ignore[attr-defined]
CASE_COLUMNS = tuple(c for c in _CASES.c if c.name != "updated_by")

# The resident a case or a visit names (``ResidentBrief``'s columns), read beside it in the same
# statement, labelled ``resident_<column>`` (``ledger.service.ResidentColumns`` reads them).
_RESIDENTS = Resident.__table__  # type: ignore[attr-defined]
RESIDENT_BRIEF = tuple(
    _RESIDENTS.c[name].label(f"resident_{name}")
    for name in ("name", "phone_enc", "community", "compound_code", "building", "unit", "room")
)


async def case_row(session: AsyncSession, principal: Principal, case_id: uuid.UUID) -> Row[Any] | None:
    """One case as a row of ``CASE_COLUMNS`` and its resident's ``RESIDENT_BRIEF``, if the caller
    sees it."""
    stmt = select(*CASE_COLUMNS, *RESIDENT_BRIEF).outerjoin_from(
        _CASES, _RESIDENTS, _RESIDENTS.c.id == _CASES.c.resident_id
    )
    stmt = scoped(stmt.where(_CASES.c.id == case_id), ProxyCase, principal)
    return (await session.execute(stmt)).first()


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


_MATERIALS = ProxyCaseMaterial.__table__  # type: ignore[attr-defined]
# A checklist line as a case's read shows it (``MaterialRead``'s fields, in its order).
MATERIAL_READ = (
    "position",
    "name",
    "form",
    "count",
    "collectable_at_home",
    "collected",
    "collected_by",
    "collected_at",
)


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


# What a visit's read shows (a Core row), read with the resident it names (``RESIDENT_BRIEF``).
_VISITS = Visit.__table__  # type: ignore[attr-defined]
VISIT_COLUMNS = tuple(c for c in _VISITS.c if c.name not in ("compound_code", "building", "unit", "room", "created_by"))


# A worker's round: by day, compound, building, unit, room (then window and id).
VISIT_ORDER = (
    col(Visit.planned_date),
    col(Visit.compound_code),
    col(Visit.building),
    col(Visit.unit),
    col(Visit.room),
    col(Visit.window_start),
    col(Visit.id),
)


def _visits_between(
    selected: Any, principal: Principal, worker: str | None, date_from: dt.date, date_to: dt.date, limit: int
) -> Any:
    stmt = (
        selected.where(col(Visit.planned_date) >= date_from, col(Visit.planned_date) <= date_to)
        .order_by(*VISIT_ORDER)
        .limit(limit)
    )
    stmt = scoped(stmt, Visit, principal)
    if worker is not None:
        stmt = stmt.where(col(Visit.worker) == worker)
    return stmt


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
    stmt = _visits_between(select(Visit), principal, worker, date_from, date_to, limit)
    return list((await session.execute(stmt)).scalars().all())


async def visit_row(session: AsyncSession, principal: Principal, visit_id: uuid.UUID) -> Row[Any] | None:
    """One visit as a row of ``VISIT_COLUMNS`` and its resident's ``RESIDENT_BRIEF``, if the
    caller sees it."""
    stmt = select(*VISIT_COLUMNS, *RESIDENT_BRIEF).outerjoin_from(
        _VISITS, _RESIDENTS, _RESIDENTS.c.id == _VISITS.c.resident_id
    )
    stmt = scoped(stmt.where(_VISITS.c.id == visit_id), Visit, principal)
    return (await session.execute(stmt)).first()


async def delete_visit(session: AsyncSession, visit: Visit) -> None:
    await session.execute(delete(VisitCase).where(col(VisitCase.visit_id) == visit.id))
    await session.execute(delete(Visit).where(col(Visit.id) == visit.id))


async def add_tombstone(session: AsyncSession, stone: SyncTombstone) -> None:
    session.add(stone)
    await session.flush()


# --- sync -----------------------------------------------------------------------------

# The feed merges several tables ordered by (row_version, entity rank, id); the rank breaks ties
# between records of different tables that share a row_version (bulk writes share one).
SYNC_ENTITIES = ("compound", "resident", "household", "case", "visit", "demand", "tombstone")
_SYNC_MODELS: dict[str, Any] = {
    "compound": Compound,
    "resident": Resident,
    "household": Household,
    "case": ProxyCase,
    "visit": Visit,
    "demand": Demand,
    "tombstone": SyncTombstone,
}
_INT_IDS = ("compound", "tombstone")


@dataclass(frozen=True)
class SyncScope:
    """What one phone carries, inside what the principal may see (``tenancy.scoped``):
    ``community`` everything; ``grid`` the records of ``grids`` plus all of ``mine``; ``mine``
    the worker's cases and visits, their residents, households and compounds, their demands."""

    name: str  # mine | grid | community
    worker: str
    grids: tuple[str, ...] = ()


def _case_grid() -> Any:
    return func.coalesce(col(ProxyCase.assigned_grid), col(ProxyCase.grid))


def _mine(entity: str, worker: str) -> Any:
    my_cases = col(ProxyCase.assigned_to) == worker
    my_visits = col(Visit.worker) == worker
    case_residents = select(col(ProxyCase.resident_id)).where(my_cases)
    visit_residents = select(col(Visit.resident_id)).where(my_visits)
    if entity == "case":
        return my_cases
    if entity == "visit":
        return my_visits
    if entity == "resident":
        return col(Resident.id).in_(case_residents) | col(Resident.id).in_(visit_residents)
    if entity == "household":
        return col(Household.id).in_(
            select(col(Resident.household_id)).where(
                col(Resident.id).in_(case_residents) | col(Resident.id).in_(visit_residents)
            )
        )
    if entity == "compound":
        return col(Compound.code).in_(
            select(col(Resident.compound_code)).where(
                col(Resident.id).in_(case_residents) | col(Resident.id).in_(visit_residents)
            )
        )
    if entity == "demand":
        return col(Demand.logged_by) == worker
    if entity == "tombstone":
        return col(SyncTombstone.worker) == worker
    raise ValueError(entity)


def _in_grids(entity: str, grids: tuple[str, ...]) -> Any:
    if entity == "case":
        return _case_grid().in_(grids)
    return col(_SYNC_MODELS[entity].grid).in_(grids)


def scope_clause(entity: str, scope: SyncScope) -> Any:
    """The rows of ``entity`` in ``scope`` (None: no narrowing beyond tenancy)."""
    if scope.name == "community":
        return None
    clause = _mine(entity, scope.worker)
    if scope.name == "grid" and scope.grids:
        clause = clause | _in_grids(entity, scope.grids)
    if entity == "tombstone":  # a deletion (no grid, no worker) concerns every scope
        clause = clause | (col(SyncTombstone.grid).is_(None) & col(SyncTombstone.worker).is_(None))
    return clause


def _after(entity: str, model: Any, after: tuple[int, int, str]) -> Any:
    rank = SYNC_ENTITIES.index(entity)
    version, crank, cid = after
    rv = col(model.row_version)
    if rank < crank:
        return rv > version
    if rank > crank:
        return rv >= version
    return or_(rv > version, (rv == version) & (col(model.id) > _key_of(entity, cid)))


def _key_of(entity: str, cid: str) -> Any:
    if entity in _INT_IDS:
        try:
            return int(cid)
        except ValueError:
            return -1
    return _uuid_or_min(cid)


def _sync_selects() -> dict[str, Any]:
    """What the feed reads of each table: the columns its read shows (Core rows: no ORM instance,
    identity map or change tracking per row), plus ``row_version``; a case or visit with the
    resident it names (``RESIDENT_BRIEF``) in the same statement."""
    compounds = Compound.__table__.c  # type: ignore[attr-defined]
    households = Household.__table__.c  # type: ignore[attr-defined]
    return {
        "compound": select(
            *(compounds[n] for n in ("id", "code", "name", "community", "grid", "address", "buildings")),
            *(compounds[n] for n in ("households", "latitude", "longitude", "version", "row_version")),
        ),
        "resident": select(*(_RESIDENTS.c[n] for n in (*READ_FIELDS, "row_version"))),
        "household": select(
            *(households[n] for n in ("id", "community", "grid", "compound_code", "building", "unit", "room")),
            households.row_version,
        ),
        "case": select(*CASE_COLUMNS, *RESIDENT_BRIEF).outerjoin_from(
            _CASES, _RESIDENTS, _RESIDENTS.c.id == _CASES.c.resident_id
        ),
        "visit": select(*VISIT_COLUMNS, *RESIDENT_BRIEF).outerjoin_from(
            _VISITS, _RESIDENTS, _RESIDENTS.c.id == _VISITS.c.resident_id
        ),
        "demand": select(*Demand.__table__.c),  # type: ignore[attr-defined]
        "tombstone": select(*SyncTombstone.__table__.c),  # type: ignore[attr-defined]
    }


_SYNC_SELECTS = _sync_selects()


async def sync_rows(
    session: AsyncSession,
    principal: Principal,
    entity: str,
    scope: SyncScope,
    *,
    after: tuple[int, int, str],
    limit: int,
) -> list[Any]:
    """Rows of one table after the cursor (row_version, rank, id), in feed order, scoped: Core
    rows of the columns the feed's read shows (``_sync_selects``)."""
    model = _SYNC_MODELS[entity]
    stmt = _SYNC_SELECTS[entity].where(_after(entity, model, after)).order_by(col(model.row_version), col(model.id))
    clause = scope_clause(entity, scope)
    if clause is not None:
        stmt = stmt.where(clause)
    stmt = scoped(stmt, model, principal).limit(limit)
    return list((await session.execute(stmt)).all())


async def in_scope(
    session: AsyncSession, principal: Principal, entity: str, scope: SyncScope, ids: Sequence[str]
) -> set[str]:
    """Which of ``ids`` (tombstone ``entity_id``s) are records the scope holds right now."""
    model = _SYNC_MODELS[entity]
    key: Any = col(Compound.code) if entity == "compound" else col(model.id)
    values: list[Any] = (
        list(ids) if entity == "compound" else [u for u in (_uuid_or_none(i) for i in ids) if u is not None]
    )
    if not values:
        return set()
    stmt = select(key).where(key.in_(values))
    if entity == "resident":
        stmt = stmt.where(col(Resident.status) == "active")
    clause = scope_clause(entity, scope)
    if clause is not None:
        stmt = stmt.where(clause)
    stmt = scoped(stmt, model, principal)
    return {str(v) for v in (await session.execute(stmt)).scalars().all()}


async def leaving_ids(
    session: AsyncSession,
    principal: Principal,
    entity: str,
    grids: tuple[str, ...],
    *,
    after: str,
    limit: int,
) -> list[tuple[str, str]]:
    """(feed id, entity id) of the rows of ``grids`` after ``after`` in id order: what a phone
    whose worker left those grids may hold (the caller keeps those still in its scope)."""
    model = _SYNC_MODELS[entity]
    identity = col(Compound.code) if entity == "compound" else col(model.id)
    stmt = (
        select(col(model.id), identity)
        .where(_in_grids(entity, grids), col(model.id) > _key_of(entity, after))
        .order_by(col(model.id))
        .limit(limit)
    )
    stmt = scoped(stmt, model, principal)
    return [(str(a), str(b)) for a, b in (await session.execute(stmt)).all()]


async def left_since(
    session: AsyncSession,
    principal: Principal,
    grids: tuple[str, ...],
    *,
    version: int,
    after: str,
    limit: int,
) -> list[SyncTombstone]:
    """Scope-exit tombstones of ``grids`` after row version ``version``, in id order."""
    stmt = (
        select(SyncTombstone)
        .where(
            col(SyncTombstone.grid).in_(grids),
            col(SyncTombstone.row_version) > version,
            col(SyncTombstone.id) > _key_of("tombstone", after),
        )
        .order_by(col(SyncTombstone.id))
        .limit(limit)
    )
    stmt = scoped(stmt, SyncTombstone, principal)
    return list((await session.execute(stmt)).scalars().all())


def _uuid_or_none(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


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
