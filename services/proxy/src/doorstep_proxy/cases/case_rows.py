"""The rows of a case list (issue #23 part 2): a page of cases with their residents beside them
and the page's checklists, as ``reads.case_items`` takes them.

The page's statement is built once per shape (the caller's kind of scope, the filters a list
has), its values bound as parameters, like ``ledger.read_rows``; on PostgreSQL, on a driver
connection (``doorstep_shared.db.driver.hot_read``), it runs on asyncpg itself, elsewhere (SQLite,
a session) as a Core statement. A page is chosen from the cases alone, newest first, then its
residents are joined to it. ``tests/proxy/cases/test_lean_reads.py`` holds the answers to the
response models byte for byte.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from sqlalchemy import Select, bindparam, select, tuple_

from doorstep_shared.auth.tokens import Principal
from doorstep_shared.db.driver import HotQuery, HotReader, among

from ..db import chunks
from ..ledger.models import Resident
from ..tenancy import ScopeShape, scope_of, scoped_by_shape
from .models import CLOSED_STATUSES, ProxyCase, ProxyCaseMaterial
from .repository import CASE_COLUMNS, MATERIAL_READ, RESIDENT_BRIEF
from .schemas import CaseQuery

_CASES = ProxyCase.__table__  # type: ignore[attr-defined]
_RESIDENTS = Resident.__table__  # type: ignore[attr-defined]
_MATERIALS = ProxyCaseMaterial.__table__  # type: ignore[attr-defined]

# The equality filters of a list: ``CaseQuery``'s attributes, each the case column of its name.
EQUALS = ("status", "community", "grid", "assigned_to", "accepted_by", "item_code", "channel", "resident_id")
# (scope, equality filters given, open only?, due before?, due from?, due until?, after a cursor?)
PageShape = tuple[ScopeShape, tuple[str, ...], bool, bool, bool, bool, bool]


@lru_cache(maxsize=256)
def _page(shape: PageShape) -> HotQuery:
    scope, equals, open_only, due_before, due_from, due_until, after = shape

    def build(arrays: bool) -> Select[Any]:
        order = (_CASES.c.accepted_at.desc(), _CASES.c.id.desc())
        page = scoped_by_shape(
            select(*CASE_COLUMNS).order_by(*order).limit(bindparam("limit")), _CASES, scope, arrays=arrays
        )
        for name in equals:
            column = _CASES.c[name]
            page = page.where(column == bindparam(name, type_=column.type))
        if open_only:
            page = page.where(~among(_CASES.c.status, "closed", arrays=arrays))
        due = _CASES.c.due_date
        if due_before:
            page = page.where(due < bindparam("due_before", type_=due.type))
        if due_from:
            page = page.where(due >= bindparam("due_from", type_=due.type))
        if due_until:
            page = page.where(due <= bindparam("due_until", type_=due.type))
        if after:
            at = bindparam("after_at", type_=_CASES.c.accepted_at.type)
            last = bindparam("after_id", type_=_CASES.c.id.type)
            page = page.where(tuple_(_CASES.c.accepted_at, _CASES.c.id) < tuple_(at, last))
        chosen = page.subquery("page")
        joined = select(*chosen.c, *RESIDENT_BRIEF).outerjoin_from(
            chosen, _RESIDENTS, _RESIDENTS.c.id == chosen.c.resident_id
        )
        return joined.order_by(chosen.c.accepted_at.desc(), chosen.c.id.desc())

    return HotQuery(build)


async def case_page(
    conn: HotReader, principal: Principal, q: CaseQuery, *, after: Sequence[Any] | None, limit: int
) -> Sequence[Any]:
    """Rows of ``CASE_COLUMNS`` and the resident's ``RESIDENT_BRIEF``, newest first by
    acceptance, ``id`` breaking ties (the cursor: ``after`` is (accepted_at, id))."""
    scope, params = scope_of(principal)
    equals = tuple(name for name in EQUALS if getattr(q, name) is not None)
    open_only = bool(q.open_only or q.due_before or q.due_until)
    shape: PageShape = (
        scope,
        equals,
        open_only,
        q.due_before is not None,
        q.due_from is not None,
        q.due_until is not None,
        bool(after),
    )
    params.update({name: getattr(q, name) for name in equals}, limit=limit)
    if open_only:
        params["closed"] = sorted(CLOSED_STATUSES)
    params.update({name: getattr(q, name) for name in ("due_before", "due_from", "due_until") if getattr(q, name)})
    if after:
        params["after_at"], params["after_id"] = after
    return await _page(shape).rows(conn, params)


_CHECKLIST = (_MATERIALS.c.case_id, *(_MATERIALS.c[name] for name in MATERIAL_READ))
_CHECKLISTS = HotQuery(
    lambda arrays: (
        select(*_CHECKLIST)
        .where(among(_MATERIALS.c.case_id, "case_ids", arrays=arrays))
        .order_by(_MATERIALS.c.case_id, _MATERIALS.c.position)
    )
)


async def material_rows(conn: HotReader, case_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[Any]]:
    """The checklists of these cases, each in position order: rows of ``MATERIAL_READ``'s
    columns, in that order, after the case id."""
    out: dict[uuid.UUID, list[Any]] = {cid: [] for cid in case_ids}
    for part in chunks(list(dict.fromkeys(case_ids))):
        for m in await _CHECKLISTS.rows(conn, {"case_ids": part}):
            out.setdefault(m.case_id, []).append(m)
    return out
