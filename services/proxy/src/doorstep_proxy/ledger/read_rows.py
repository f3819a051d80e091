"""The resident reads' rows: ``repository.READ_COLUMNS`` and the resident's benefits, as
``reads.resident_item`` takes them (``r.benefits``: (item_code, since) pairs in item code order).

The statements are built once per shape (which filters a search has, the caller's kind of scope),
their values bound as parameters, so a request builds none. On PostgreSQL, on a driver connection
(``doorstep_shared.db.driver.hot_read``), each runs on asyncpg itself with the benefits gathered in
the same statement: one round trip, no SQLAlchemy per row. Elsewhere (SQLite, a request's
session) the Core statement runs and the page's benefits follow in one query.
Both give the same rows; the byte-for-byte tests of ``tests/proxy/ledger/test_lean_reads.py``
hold them to the response models on both databases.
"""

from __future__ import annotations

import uuid
from collections import namedtuple
from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Any

from sqlalchemy import Select, bindparam, func, select, tuple_
from sqlmodel import col

from doorstep_shared.auth.tokens import Principal
from doorstep_shared.clock import local_today
from doorstep_shared.db.driver import DriverConnection, HotQuery, HotReader, among

from ..tenancy import ScopeShape, scope_of, scoped_by_shape
from .groups import elderly_born_by, group_condition
from .models import Household, Resident, ResidentBenefit
from .repository import READ_COLUMNS, RESIDENT_ORDER, benefits_of, cursor_uuid
from .schemas import ResidentQuery

# A row of READ_COLUMNS and the resident's benefits, as the Core path gives it (the driver's rows
# have the same fields).
ReadRow = namedtuple("ReadRow", [*(c.name for c in READ_COLUMNS), "benefits"])  # type: ignore[misc]

# PostgreSQL: each resident's benefits in the resident's own row, ``ARRAY(SELECT (item_code,
# since) …)`` (asyncpg reads a record[] as tuples).
_B = ResidentBenefit.__table__.alias("b")  # type: ignore[attr-defined]
_BENEFITS_IN_ROW = func.array(
    select(tuple_(_B.c.item_code, _B.c.since))
    .where(_B.c.resident_id == col(Resident.id))
    .order_by(_B.c.item_code)
    .scalar_subquery()
).label("benefits")


class ReadStatement:
    """One shape of resident read (a ``HotQuery``): the Core statement (expanding ``IN``, benefits
    read after it) and the driver's (arrays bound whole, the benefits in the row), each built once."""

    def __init__(self, build: Callable[[bool], Select[Any]]) -> None:
        self.query = HotQuery(lambda arrays: build(True).add_columns(_BENEFITS_IN_ROW) if arrays else build(False))

    async def rows(self, session: HotReader, params: dict[str, Any]) -> list[Any]:
        rows = await self.query.rows(session, params)
        if isinstance(session, DriverConnection):
            return list(rows)
        benefits = await benefits_of(session, [r.id for r in rows])
        return [ReadRow(*r, [(b.item_code, b.since) for b in benefits[r.id]]) for r in rows]  # type: ignore[call-arg]


# --- one resident ----------------------------------------------------------------------


@lru_cache(maxsize=8)
def _one(scope: ScopeShape) -> ReadStatement:
    def build(arrays: bool) -> Select[Any]:
        stmt = select(*READ_COLUMNS).where(col(Resident.id) == bindparam("resident_id"))
        return scoped_by_shape(stmt, Resident, scope, arrays=arrays)  # type: ignore[no-any-return]

    return ReadStatement(build)


async def resident_row(session: HotReader, principal: Principal, resident_id: uuid.UUID) -> Any | None:
    """One resident as a read row, if the caller sees them (the field app's hottest read)."""
    scope, params = scope_of(principal)
    rows = await _one(scope).rows(session, {**params, "resident_id": resident_id})
    return rows[0] if rows else None


# --- a search ----------------------------------------------------------------------------

# The equality filters of a search: the query's attribute and the column it compares.
_EQUALS: tuple[tuple[str, Any], ...] = (
    ("id_last4", Resident.id_last4),
    ("phone_hash", Resident.phone_hash),
    ("id_number_hash", Resident.id_number_hash),
    ("community", Resident.community),
    ("grid", Resident.grid),
    ("compound", Resident.compound_code),
    ("building", Resident.building),
    ("unit", Resident.unit),
    ("room", Resident.room),
    ("household_id", Resident.household_id),
    ("disability_type", Resident.disability_type),
    ("disability_grade", Resident.disability_grade),
)

# (scope, statuses?, name?, equality filters given, groups, without a benefit?, after a cursor?)
SearchShape = tuple[ScopeShape, bool, bool, tuple[str, ...], tuple[str, ...], bool, bool]


@lru_cache(maxsize=256)
def _search(shape: SearchShape) -> ReadStatement:
    scope, statuses, name, equals, groups, without_benefit, after = shape
    columns = dict(_EQUALS)

    def build(arrays: bool) -> Select[Any]:
        stmt = select(*READ_COLUMNS).order_by(*RESIDENT_ORDER).limit(bindparam("limit"))
        stmt = scoped_by_shape(stmt, Resident, scope, arrays=arrays)
        if statuses:
            stmt = stmt.where(among(col(Resident.status), "statuses", arrays=arrays))
        if name:
            stmt = stmt.where(col(Resident.name).like(bindparam("name_like"), escape="\\"))
        for attribute in equals:
            stmt = stmt.where(col(columns[attribute]) == bindparam(attribute))
        for group in groups:
            stmt = stmt.where(group_condition(group, None, born_by=bindparam("elderly_born_by")))
        if without_benefit:
            receives = (
                select(col(ResidentBenefit.resident_id))
                .where(col(ResidentBenefit.resident_id) == col(Resident.id))
                .where(col(ResidentBenefit.item_code) == bindparam("without_benefit"))
            )
            stmt = stmt.where(~receives.exists())
        if after:
            bound = [bindparam(f"after_{i}", type_=c.type) for i, c in enumerate(RESIDENT_ORDER)]  # type: ignore[attr-defined]
            stmt = stmt.where(tuple_(*RESIDENT_ORDER) > tuple_(*bound))
        built: Select[Any] = stmt
        return built

    return ReadStatement(build)


async def search_residents(
    session: HotReader, principal: Principal, query: ResidentQuery, *, after: Sequence[Any] | None, limit: int
) -> list[Any]:
    """A page of residents as read rows, in ``RESIDENT_ORDER``."""
    scope, params = scope_of(principal)
    equals = tuple(attribute for attribute, _ in _EQUALS if getattr(query, attribute) is not None)
    groups = tuple(query.groups)
    shape: SearchShape = (
        scope,
        bool(query.statuses),
        bool(query.name),
        equals,
        groups,
        bool(query.without_benefit),
        bool(after),
    )
    params.update({attribute: getattr(query, attribute) for attribute in equals}, limit=limit)
    if query.statuses:
        params["statuses"] = list(query.statuses)
    if query.name:
        escaped = query.name.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        params["name_like"] = f"%{escaped}%"
    if "elderly_80" in groups:
        params["elderly_born_by"] = elderly_born_by(query.today or local_today())
    if query.without_benefit:
        params["without_benefit"] = query.without_benefit
    if after:
        values = [*(str(v) for v in after[:5]), cursor_uuid(after[5])]
        params.update({f"after_{i}": value for i, value in enumerate(values)})
    return await _search(shape).rows(session, params)


# --- households --------------------------------------------------------------------------

_HOUSEHOLDS = Household.__table__  # type: ignore[attr-defined]
# A household's read (``HouseholdRead``): its columns and its active members counted in the row.
HOUSEHOLD_COLUMNS = (
    *(_HOUSEHOLDS.c[name] for name in ("id", "community", "grid", "compound_code", "building", "unit", "room")),
    select(func.count())
    .where(col(Resident.household_id) == col(Household.id))
    .where(col(Resident.status) == "active")
    .scalar_subquery()
    .label("members"),
)
HOUSEHOLD_ORDER = tuple(_HOUSEHOLDS.c[name] for name in ("compound_code", "building", "unit", "room", "id"))

# (scope, compound?, grid?, building?, after a cursor?)
HouseholdShape = tuple[ScopeShape, bool, bool, bool, bool]


@lru_cache(maxsize=64)
def _households(shape: HouseholdShape) -> HotQuery:
    scope, compound, grid, building, after = shape

    def build(arrays: bool) -> Select[Any]:
        stmt = select(*HOUSEHOLD_COLUMNS).order_by(*HOUSEHOLD_ORDER).limit(bindparam("limit"))
        stmt = scoped_by_shape(stmt, Household, scope, arrays=arrays)
        for given, name in ((compound, "compound_code"), (grid, "grid"), (building, "building")):
            if given:
                stmt = stmt.where(_HOUSEHOLDS.c[name] == bindparam(name))
        if after:
            bound = [bindparam(f"after_{i}", type_=c.type) for i, c in enumerate(HOUSEHOLD_ORDER)]
            stmt = stmt.where(tuple_(*HOUSEHOLD_ORDER) > tuple_(*bound))
        built: Select[Any] = stmt
        return built

    return HotQuery(build)


async def household_rows(
    session: HotReader,
    principal: Principal,
    *,
    compound: str | None,
    grid: str | None,
    building: str | None,
    after: Sequence[Any] | None,
    limit: int,
) -> list[Any]:
    """A page of households as rows of ``HOUSEHOLD_COLUMNS`` (members counted), in
    ``HOUSEHOLD_ORDER``. Building, unit and room may be NULL: the cursor compares them as text."""
    scope, params = scope_of(principal)
    shape: HouseholdShape = (scope, bool(compound), bool(grid), building is not None, bool(after))
    params.update(compound_code=compound, grid=grid, building=building, limit=limit)
    if after:
        values = [*(str(v) for v in after[:4]), cursor_uuid(after[4])]
        params.update({f"after_{i}": value for i, value in enumerate(values)})
    return list(await _households(shape).rows(session, params))
