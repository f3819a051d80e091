"""Every ledger query (compounds, households, residents, benefits, reveals). Tenancy is applied
here (``tenancy.scoped``): a record of a community the caller does not see is absent — 404 on
read, missing from lists.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, bindparam, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from doorstep_shared.auth.tokens import Principal
from doorstep_shared.http.errors import Invalid

from ..db import chunks, dialect_insert
from ..tenancy import scoped
from .models import Compound, Household, Resident, ResidentBenefit, RevealAudit
from .schemas import READ_FIELDS


def cursor_uuid(value: Any) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise Invalid.field("query.cursor", "malformed cursor", code="invalid_cursor") from None


# --- compounds ------------------------------------------------------------------------


async def list_compounds(
    session: AsyncSession,
    principal: Principal,
    *,
    community: str | None = None,
    grid: str | None = None,
    after: str | None = None,
    limit: int = 200,
) -> Sequence[Compound]:
    stmt = select(Compound).order_by(col(Compound.code)).limit(limit)
    stmt = scoped(stmt, Compound, principal)
    if community:
        stmt = stmt.where(col(Compound.community) == community)
    if grid:
        stmt = stmt.where(col(Compound.grid) == grid)
    if after:
        stmt = stmt.where(col(Compound.code) > after)
    return (await session.execute(stmt)).scalars().all()


async def get_compound(
    session: AsyncSession, principal: Principal, code: str, *, for_update: bool = False
) -> Compound | None:
    stmt = scoped(select(Compound).where(col(Compound.code) == code), Compound, principal)
    if for_update:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).scalar_one_or_none()


async def compounds_by_code(session: AsyncSession, principal: Principal) -> dict[str, Compound]:
    stmt = scoped(select(Compound), Compound, principal)
    return {c.code: c for c in (await session.execute(stmt)).scalars().all()}


# --- households -----------------------------------------------------------------------

AddressKey = tuple[str, str, str, str]  # compound, building, unit, room


async def households_for(session: AsyncSession, keys: set[AddressKey]) -> dict[AddressKey, uuid.UUID]:
    """Existing households at these addresses (no tenancy: callers resolved the compounds)."""
    found: dict[AddressKey, uuid.UUID] = {}
    compounds = sorted({k[0] for k in keys})
    for part in chunks(compounds):
        stmt = select(
            col(Household.id),
            col(Household.compound_code),
            col(Household.building),
            col(Household.unit),
            col(Household.room),
        ).where(col(Household.compound_code).in_(part))
        for hid, *key in (await session.execute(stmt)).all():
            k = (key[0], key[1], key[2], key[3])
            if k in keys:
                found[k] = hid
    return found


async def insert_households(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """Insert households, skipping addresses another transaction created meanwhile."""
    if not rows:
        return
    conn = await session.connection()
    table = Household.__table__  # type: ignore[attr-defined]
    stmt = dialect_insert(session)(table).on_conflict_do_nothing(
        index_elements=["compound_code", "building", "unit", "room"]
    )
    for part in chunks(rows, 1000):
        await conn.execute(stmt, list(part))


async def household_members(session: Reader, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, int]:
    out: dict[uuid.UUID, int] = {}
    unique = list(ids)
    for start in range(0, len(unique), 500):
        stmt = (
            select(col(Resident.household_id), func.count())
            .where(col(Resident.household_id).in_(unique[start : start + 500]))
            .where(col(Resident.status) == "active")
            .group_by(col(Resident.household_id))
        )
        out.update({hid: int(n) for hid, n in (await session.execute(stmt)).all() if hid is not None})
    return out


async def get_household(session: AsyncSession, principal: Principal, household_id: uuid.UUID) -> Household | None:
    stmt = scoped(select(Household).where(col(Household.id) == household_id), Household, principal)
    return (await session.execute(stmt)).scalar_one_or_none()


# --- residents ------------------------------------------------------------------------


RESIDENT_ORDER = (
    col(Resident.compound_code),
    col(Resident.building),
    col(Resident.unit),
    col(Resident.room),
    col(Resident.name),
    col(Resident.id),
)


# The hot reads run on a request's session or on a bare read-only connection (ReadConnection).
Reader = AsyncSession | AsyncConnection

# What a resident's read shows, and the ciphertexts it masks: a Core row of these (no lookup
# hashes, key ids or bookkeeping, no ORM instance, identity map or change tracking per row).
_RESIDENTS = Resident.__table__  # type: ignore[attr-defined]
READ_COLUMNS = tuple(_RESIDENTS.c[name] for name in READ_FIELDS)


async def get_resident(
    session: AsyncSession, principal: Principal, resident_id: uuid.UUID, *, for_update: bool = False
) -> Resident | None:
    stmt = scoped(select(Resident).where(col(Resident.id) == resident_id), Resident, principal)
    if for_update:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).scalar_one_or_none()


async def residents_by_ids(session: AsyncSession, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Resident]:
    out: dict[uuid.UUID, Resident] = {}
    unique = list(dict.fromkeys(ids))
    for start in range(0, len(unique), 500):
        stmt = select(Resident).where(col(Resident.id).in_(unique[start : start + 500]))
        out.update({r.id: r for r in (await session.execute(stmt)).scalars().all()})
    return out


async def resident_by_id_hash(session: AsyncSession, id_hash: str) -> Resident | None:
    """Across every community: the register holds each person once (duplicate detection)."""
    stmt = select(Resident).where(col(Resident.id_number_hash) == id_hash)
    return (await session.execute(stmt)).scalar_one_or_none()


async def residents_by_id_hashes(session: AsyncSession, hashes: Sequence[str]) -> dict[str, Any]:
    """Plain rows (attribute access like a ``Resident``, no ORM identity map: cheap in bulk)."""
    found: dict[str, Any] = {}
    table = Resident.__table__  # type: ignore[attr-defined]
    conn = await session.connection()
    for part in chunks(list(hashes), 1000):
        stmt = select(table).where(table.c.id_number_hash.in_(part))
        for r in (await conn.execute(stmt)).all():
            found[r.id_number_hash] = r
    return found


async def existing_id_hashes(session: AsyncSession) -> set[str]:
    return set((await session.execute(select(col(Resident.id_number_hash)))).scalars().all())


_BENEFIT_COLUMNS = (col(ResidentBenefit.resident_id), col(ResidentBenefit.item_code), col(ResidentBenefit.since))
_BENEFITS_OF: Any = (
    select(*_BENEFIT_COLUMNS)
    .where(_BENEFIT_COLUMNS[0].in_(bindparam("ids", expanding=True)))
    .order_by(_BENEFIT_COLUMNS[1])
)


async def benefits_of(session: Reader, resident_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[Row[Any]]]:
    """The benefits of these residents (rows of resident_id, item_code, since), in one query per
    chunk of ids, each resident's in item code order."""
    out: dict[uuid.UUID, list[Row[Any]]] = {rid: [] for rid in resident_ids}
    for part in chunks(list(resident_ids)):
        for b in (await session.execute(_BENEFITS_OF, {"ids": list(part)})).all():
            out.setdefault(b.resident_id, []).append(b)
    return out


async def insert_residents(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """Bulk insert (one executemany / multi-row VALUES, no ORM unit of work)."""
    if not rows:
        return
    # Core executemany on the table: skips the ORM's per-row bookkeeping (about 3x faster).
    conn = await session.connection()
    table = Resident.__table__  # type: ignore[attr-defined]
    for part in chunks(rows, 1000):
        await conn.execute(table.insert(), list(part))


async def refresh_statistics(session: AsyncSession) -> None:
    """After a big bulk load, let PostgreSQL's planner know the table grew (otherwise it keeps
    seq-scanning a table it believes tiny until autovacuum's next ANALYZE)."""
    conn = await session.connection()
    if conn.dialect.name == "postgresql":
        await conn.exec_driver_sql("ANALYZE resident")
        await conn.exec_driver_sql("ANALYZE household")


async def update_residents(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """Bulk UPDATE by primary key (each dict carries ``id``)."""
    for part in chunks(rows, 1000):
        await session.execute(update(Resident), list(part))


async def replace_benefits(
    session: AsyncSession, resident_ids: Sequence[uuid.UUID], rows: list[dict[str, Any]]
) -> None:
    for part in chunks(list(resident_ids)):
        await session.execute(delete(ResidentBenefit).where(col(ResidentBenefit.resident_id).in_(part)))
    if rows:
        conn = await session.connection()
        table = ResidentBenefit.__table__  # type: ignore[attr-defined]
        for rows_part in chunks(rows, 1000):
            await conn.execute(table.insert(), list(rows_part))


async def flush_add(session: AsyncSession, *objects: Any) -> None:
    for obj in objects:
        session.add(obj)
    await session.flush()


# --- reveal audit ---------------------------------------------------------------------


async def append_reveal(session: AsyncSession, record: RevealAudit) -> RevealAudit:
    session.add(record)
    await session.flush()
    return record


async def list_reveals(
    session: AsyncSession,
    principal: Principal,
    *,
    resident_id: uuid.UUID | None,
    actor: str | None,
    after: int | None,
    limit: int,
) -> Sequence[RevealAudit]:
    stmt = select(RevealAudit).order_by(col(RevealAudit.id).desc()).limit(limit)
    stmt = scoped(stmt, RevealAudit, principal)
    if resident_id:
        stmt = stmt.where(col(RevealAudit.resident_id) == resident_id)
    if actor:
        stmt = stmt.where(col(RevealAudit.actor) == actor)
    if after is not None:
        stmt = stmt.where(col(RevealAudit.id) < after)
    return (await session.execute(stmt)).scalars().all()
