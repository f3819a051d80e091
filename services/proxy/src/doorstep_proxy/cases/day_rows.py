"""The rows of "my day" and "my week" (issue #23 part 2): a worker's visits with their residents
beside them, the cases each visit covers and those cases' missing materials, as
``reads.visit_items`` takes them.

The statements are built once per shape (the caller's kind of scope, a worker given or not),
their values bound as parameters, like ``ledger.read_rows``; on PostgreSQL, on a driver
connection (``doorstep_shared.db.driver.hot_read``), they run on asyncpg itself, elsewhere (SQLite,
a session) as Core statements. ``tests/proxy/cases/test_lean_reads.py`` holds the answers to the
response models byte for byte.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from sqlalchemy import Select, bindparam, select

from doorstep_shared.auth.tokens import Principal
from doorstep_shared.db.driver import HotQuery, HotReader, among

from ..db import chunks
from ..ledger.models import Resident
from ..tenancy import ScopeShape, scope_of, scoped_by_shape
from .models import ProxyCase, ProxyCaseMaterial, Visit, VisitCase
from .repository import RESIDENT_BRIEF, VISIT_COLUMNS, VISIT_ORDER

_VISITS = Visit.__table__  # type: ignore[attr-defined]
_RESIDENTS = Resident.__table__  # type: ignore[attr-defined]
_CASES = ProxyCase.__table__  # type: ignore[attr-defined]
_LINK = VisitCase.__table__  # type: ignore[attr-defined]
_MATERIALS = ProxyCaseMaterial.__table__  # type: ignore[attr-defined]


@lru_cache(maxsize=16)
def _visits(shape: tuple[ScopeShape, bool]) -> HotQuery:
    scope, by_worker = shape

    def build(arrays: bool) -> Select[Any]:
        stmt = (
            select(*VISIT_COLUMNS, *RESIDENT_BRIEF)
            .outerjoin_from(_VISITS, _RESIDENTS, _RESIDENTS.c.id == _VISITS.c.resident_id)
            .where(_VISITS.c.planned_date >= bindparam("date_from"), _VISITS.c.planned_date <= bindparam("date_to"))
            .order_by(*VISIT_ORDER)
            .limit(bindparam("limit"))
        )
        if by_worker:
            stmt = stmt.where(_VISITS.c.worker == bindparam("worker"))
        built: Select[Any] = scoped_by_shape(stmt, _VISITS, scope, arrays=arrays)
        return built

    return HotQuery(build)


async def visit_rows(
    conn: HotReader,
    principal: Principal,
    *,
    worker: str | None,
    date_from: dt.date,
    date_to: dt.date,
    limit: int = 500,
) -> Sequence[Any]:
    """Visits in [date_from, date_to] (``repository.VISIT_ORDER``: by day, compound, building,
    unit, room) as rows of ``VISIT_COLUMNS`` and the resident's ``RESIDENT_BRIEF`` (a worker's
    visits of a few days: the join costs a lookup per visit shown)."""
    scope, params = scope_of(principal)
    params.update(date_from=date_from, date_to=date_to, limit=limit)
    if worker is not None:
        params["worker"] = worker
    return await _visits((scope, worker is not None)).rows(conn, params)


@lru_cache(maxsize=4)
def _covered(scope: ScopeShape) -> HotQuery:
    def build(arrays: bool) -> Select[Any]:
        columns = (_LINK.c.visit_id, _CASES.c.id, _CASES.c.item_code, _CASES.c.item_name, _CASES.c.status)
        stmt = (
            select(*columns)
            .join_from(_LINK, _CASES, _LINK.c.case_id == _CASES.c.id)
            .where(among(_LINK.c.visit_id, "visit_ids", arrays=arrays))
            .order_by(_LINK.c.visit_id, _LINK.c.case_id)
        )
        built: Select[Any] = scoped_by_shape(stmt, _CASES, scope, arrays=arrays)
        return built

    return HotQuery(build)


async def visit_case_rows(
    conn: HotReader, principal: Principal | None, visit_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[Any]]:
    """The cases each visit covers (rows of visit_id, id, item_code, item_name, status), in case
    id order. For a machine client only the cases it sees; for anyone else every covered case
    (the visits are ones the caller already sees)."""
    scope: ScopeShape = (False, False)
    params: dict[str, Any] = {}
    if principal is not None and principal.sees_only_its_own:
        scope, params = scope_of(principal)
    out: dict[uuid.UUID, list[Any]] = {v: [] for v in visit_ids}
    for part in chunks(list(visit_ids)):
        for row in await _covered(scope).rows(conn, {**params, "visit_ids": part}):
            out.setdefault(row.visit_id, []).append(row)
    return out


_MISSING = HotQuery(
    lambda arrays: (
        select(_MATERIALS.c.case_id, _MATERIALS.c.name)
        .where(among(_MATERIALS.c.case_id, "case_ids", arrays=arrays), _MATERIALS.c.collected.is_(None))
        .order_by(_MATERIALS.c.case_id, _MATERIALS.c.position)
    )
)


async def missing_materials(conn: HotReader, case_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[str]]:
    """The names of the materials not yet collected, per case, in position order."""
    out: dict[uuid.UUID, list[str]] = {cid: [] for cid in case_ids}
    for part in chunks(list(dict.fromkeys(case_ids))):
        for case_id, name in await _MISSING.rows(conn, {"case_ids": part}):
            out.setdefault(case_id, []).append(name)
    return out
