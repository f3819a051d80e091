"""Discovery's reads and bookkeeping: the per-resident reads of the incremental path, lead lists
(tenancy applied here), figures, needs survey, coming due, the runs and their lease, and the
queue of changed residents. The writes that bring leads in line with the rules are
``lead_writes.py``."""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    String,
    Table,
    and_,
    case,
    delete,
    exists,
    func,
    literal,
    select,
    union_all,
    update,
)
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from doorstep_shared.auth.tokens import Principal
from doorstep_shared.db.driver import among

from ..cases.models import CLOSED_STATUSES, ProxyCase
from ..db import chunks, dialect_insert
from ..ledger.models import Compound
from ..tenancy import scoped
from .compile_sql import BENEFIT, FACT_COLUMNS, RESIDENT, SqlRule
from .models import (
    DiscoveryItemState,
    DiscoveryLead,
    DiscoveryLock,
    DiscoveryPending,
    DiscoveryRun,
)

LEAD: Table = DiscoveryLead.__table__  # type: ignore[attr-defined]
CASE: Table = ProxyCase.__table__  # type: ignore[attr-defined]
RUN: Table = DiscoveryRun.__table__  # type: ignore[attr-defined]
LOCK: Table = DiscoveryLock.__table__  # type: ignore[attr-defined]
PENDING: Table = DiscoveryPending.__table__  # type: ignore[attr-defined]

STATE: Table = DiscoveryItemState.__table__  # type: ignore[attr-defined]


def receives(item_code: str) -> ColumnElement[bool]:
    return exists(
        select(BENEFIT.c.resident_id).where(BENEFIT.c.resident_id == RESIDENT.c.id, BENEFIT.c.item_code == item_code)
    )


def has_open_case(item_code: str) -> ColumnElement[bool]:
    return exists(
        select(CASE.c.id).where(
            CASE.c.resident_id == RESIDENT.c.id,
            CASE.c.item_code == item_code,
            CASE.c.status.not_in(CLOSED_STATUSES),
        )
    )


def scope_filter(scope: str | tuple[str, ...], community: Any = None) -> ColumnElement[bool]:
    """``county`` (everybody), one community, or several (a county's, see ``RuleBooks.plan``);
    ``community`` is the column to filter (the resident's by default)."""
    column = RESIDENT.c.community if community is None else community
    if scope == "county":
        return literal(True)
    if isinstance(scope, tuple):
        return column.in_(scope)
    return column == scope


# --- streaming (the Python fallback and the naive paths never hold the register) ----------


async def resident_batch(
    session: AsyncSession, scope: str | tuple[str, ...], after: uuid.UUID | None, size: int
) -> Sequence[Any]:
    stmt = (
        select(RESIDENT).where(RESIDENT.c.status == "active", scope_filter(scope)).order_by(RESIDENT.c.id).limit(size)
    )
    if after is not None:
        stmt = stmt.where(RESIDENT.c.id > after)
    return (await session.execute(stmt)).all()


async def resident_row(session: AsyncSession, resident_id: uuid.UUID) -> Any | None:
    return (await session.execute(select(RESIDENT).where(RESIDENT.c.id == resident_id))).first()


async def benefit_codes(session: AsyncSession, resident_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, set[str]]:
    out: dict[uuid.UUID, set[str]] = {rid: set() for rid in resident_ids}
    for part in chunks(list(resident_ids)):
        stmt = select(BENEFIT.c.resident_id, BENEFIT.c.item_code).where(BENEFIT.c.resident_id.in_(part))
        for rid, code in (await session.execute(stmt)).all():
            out.setdefault(rid, set()).add(code)
    return out


async def open_case_items(session: AsyncSession, resident_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, set[str]]:
    out: dict[uuid.UUID, set[str]] = {rid: set() for rid in resident_ids}
    for part in chunks(list(resident_ids)):
        stmt = select(CASE.c.resident_id, CASE.c.item_code).where(
            CASE.c.resident_id.in_(part), CASE.c.status.not_in(CLOSED_STATUSES)
        )
        for rid, code in (await session.execute(stmt)).all():
            out.setdefault(rid, set()).add(code)
    return out


async def resident_context(
    session: AsyncSession, resident_id: uuid.UUID, item_codes: Sequence[str]
) -> tuple[set[str], set[str], dict[str, Any]]:
    """One round trip for the incremental path: the benefits a resident receives, the items
    they have an open case for, and the states of their leads for ``item_codes`` (the
    catalogue's items: the lead index is item first, so the resident's leads are one index
    probe per item; leads of an item deleted from the catalogue are swept by the rules run)."""
    none_str = literal(None, String)
    stmt = union_all(
        select(
            literal("b").label("kind"),
            BENEFIT.c.item_code,
            none_str,
            none_str,
            literal(0, Integer),
            none_str,
            none_str,
            none_str,
        ).where(BENEFIT.c.resident_id == resident_id),
        select(
            literal("c"), CASE.c.item_code, none_str, none_str, literal(0, Integer), none_str, none_str, none_str
        ).where(CASE.c.resident_id == resident_id, CASE.c.status.not_in(CLOSED_STATUSES)),
        select(
            literal("l"),
            LEAD.c.item_code,
            LEAD.c.status,
            LEAD.c.verdict,
            LEAD.c.missing_mask,
            LEAD.c.fingerprint,
            LEAD.c.community,
            LEAD.c.grid,
        ).where(LEAD.c.item_code.in_(sorted(item_codes)), LEAD.c.resident_id == resident_id),
    )
    benefits: set[str] = set()
    cases: set[str] = set()
    leads: dict[str, LeadState] = {}
    for kind, code, status, verdict, mask, fingerprint, community, grid in (await session.execute(stmt)).all():
        if kind == "b":
            benefits.add(code)
        elif kind == "c":
            cases.add(code)
        else:
            leads[code] = LeadState(code, status, verdict, int(mask), fingerprint, community, grid)
    return benefits, cases, leads


@dataclasses.dataclass(frozen=True, slots=True)
class LeadState:
    item_code: str
    status: str
    verdict: str
    missing_mask: int
    fingerprint: str
    community: str
    grid: str


# --- leads: reads -----------------------------------------------------------------------


# What a lead's read shows (a Core row: no ORM instance per lead): all but the run's bookkeeping.
LEAD_COLUMNS = tuple(c for c in LEAD.c if c.name not in ("fingerprint", "confirmed_pass"))
# What a lead shows of its resident: the face (name, phone, age, gender, address) and the facts
# its reasons are rendered from.
LEAD_RESIDENT_COLUMNS = tuple(
    RESIDENT.c[name]
    for name in dict.fromkeys(
        (
            "id",
            "name",
            "gender",
            "birth_date",
            "phone_enc",
            "community",
            "compound_code",
            "building",
            "unit",
            "room",
            *FACT_COLUMNS,
        )
    )
)
# The same read beside a lead in its statement (``lead_rows``), labelled ``resident_<column>``
# (``ledger.service.ResidentColumns`` reads them; ``id`` is the lead's ``resident_id``).
LEAD_RESIDENT = tuple(c.label(f"resident_{c.name}") for c in LEAD_RESIDENT_COLUMNS if c.name != "id")


async def get_lead(
    session: AsyncSession, principal: Principal, lead_id: int, *, for_update: bool = False
) -> DiscoveryLead | None:
    stmt = scoped(select(DiscoveryLead).where(DiscoveryLead.id == lead_id), DiscoveryLead, principal)  # type: ignore[arg-type]
    if for_update:
        stmt = stmt.with_for_update()
    result: DiscoveryLead | None = (await session.execute(stmt)).scalar_one_or_none()
    return result


def in_grids(grids: Sequence[str] | str, *, arrays: bool = False) -> ColumnElement[bool]:
    """Leads in these grids, phrased for the (community, grid, id) index: each grid's community
    (where the ledger's compounds of the grid are, as the directory placed them) goes first, so
    a grid list is one index range per grid. ``grids``: the grids, or the name of the parameter
    a statement built once binds them to (``arrays``: as one array, see ``among``)."""

    def one_of(column: Any) -> ColumnElement[bool]:
        return among(column, grids, arrays=arrays) if isinstance(grids, str) else column.in_(list(grids))

    communities = select(col(Compound.community)).where(one_of(col(Compound.grid))).distinct()
    return and_(LEAD.c.community.in_(communities.scalar_subquery()), one_of(LEAD.c.grid))


async def residents_by_id(session: AsyncSession, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Any]:
    out: dict[uuid.UUID, Any] = {}
    for part in chunks(list(ids)):
        for r in (await session.execute(select(RESIDENT).where(RESIDENT.c.id.in_(part)))).all():
            out[r.id] = r
    return out


async def lead_figures(
    session: AsyncSession, principal: Principal, community: str | None, grid: str | None
) -> list[tuple[str, str, str, int]]:
    """(item, verdict, status, count) in scope."""
    t = LEAD
    stmt = select(t.c.item_code, t.c.verdict, t.c.status, func.count()).group_by(t.c.item_code, t.c.verdict, t.c.status)
    stmt = scoped(stmt, t, principal, community=community)
    if grid is not None:
        stmt = stmt.where(in_grids([grid]))
    return [(i, v, s, int(n)) for i, v, s, n in (await session.execute(stmt)).all()]


async def missing_counts(
    session: AsyncSession, principal: Principal, grids: Sequence[str] | None, bits: dict[str, int]
) -> dict[str, tuple[int, int, list[str]]]:
    """Per missing fact: open unknown leads, distinct residents, items concerned.

    The scope's open unknown leads are read once, grouped by resident: per fact, how many of
    the resident's leads miss it (a lead missing two facts counts for both); a resident counts
    for a fact when any of theirs does. The items come from a second, small grouping by
    (item, missing facts)."""
    if not bits:
        return {}
    where = [LEAD.c.verdict == "unknown", LEAD.c.status.in_(("new", "contacted"))]
    if grids is not None:
        where.append(in_grids(grids))
    facts = sorted(bits.items(), key=lambda kv: kv[1])
    has = {fact: case((LEAD.c.missing_mask.op("&")(bit) != 0, 1), else_=0) for fact, bit in facts}
    per_resident = scoped(
        select(*(func.sum(has[fact]).label(f"n{i}") for i, (fact, _) in enumerate(facts)))
        .where(*where)
        .group_by(LEAD.c.resident_id),
        LEAD,
        principal,
    ).subquery("per_resident")
    totals = select(
        *(
            agg
            for i in range(len(facts))
            for agg in (
                func.coalesce(func.sum(per_resident.c[f"n{i}"]), 0),
                func.count(case((per_resident.c[f"n{i}"] > 0, 1))),
            )
        )
    )
    row = (await session.execute(totals)).one()
    masks = scoped(
        select(LEAD.c.item_code, LEAD.c.missing_mask).where(*where).group_by(LEAD.c.item_code, LEAD.c.missing_mask),
        LEAD,
        principal,
    )
    items: dict[str, set[str]] = {}
    for code, mask in (await session.execute(masks)).all():
        for fact, bit in facts:
            if int(mask) & bit:
                items.setdefault(fact, set()).add(code)
    out: dict[str, tuple[int, int, list[str]]] = {}
    for i, (fact, _) in enumerate(facts):
        leads, residents = int(row[2 * i]), int(row[2 * i + 1])
        if leads:
            out[fact] = (leads, residents, sorted(items.get(fact, ())))
    return out


async def coming_due_candidates(
    session: AsyncSession,
    principal: Principal,
    sql_today: SqlRule,
    item_code: str,
    born_after: dt.date,
    born_on_or_before: dt.date,
    grids: Sequence[str] | None,
) -> Sequence[Any]:
    """Residents turning the threshold age in the window who do not qualify today."""
    stmt = select(RESIDENT).where(
        RESIDENT.c.status == "active",
        RESIDENT.c.birth_date > born_after,
        RESIDENT.c.birth_date <= born_on_or_before,
        ~sql_today.true,
        ~receives(item_code),
        ~has_open_case(item_code),
    )
    stmt = scoped(stmt, RESIDENT, principal)
    if grids is not None:
        stmt = stmt.where(RESIDENT.c.grid.in_(list(grids)))
    return (await session.execute(stmt.limit(2000))).all()


# --- runs and the lease ------------------------------------------------------------------


async def create_run(session: AsyncSession, run: DiscoveryRun) -> DiscoveryRun:
    session.add(run)
    await session.flush()
    return run


async def get_run(session: AsyncSession, run_id: int, *, for_update: bool = False) -> DiscoveryRun | None:
    stmt = select(DiscoveryRun).where(DiscoveryRun.id == run_id)  # type: ignore[arg-type]
    if for_update:  # fresh values under the lock, even when the session already holds the row
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    result: DiscoveryRun | None = (await session.execute(stmt)).scalar_one_or_none()
    return result


async def list_runs(
    session: AsyncSession, scopes: Sequence[str] | None, after: int | None, limit: int
) -> Sequence[DiscoveryRun]:
    stmt = select(DiscoveryRun).order_by(DiscoveryRun.id.desc()).limit(limit)  # type: ignore[union-attr]
    if scopes is not None:
        stmt = stmt.where(DiscoveryRun.scope.in_(list(scopes)))  # type: ignore[attr-defined]
    if after is not None:
        stmt = stmt.where(col(DiscoveryRun.id) < after)
    return (await session.execute(stmt)).scalars().all()


async def last_completed_run(session: AsyncSession, scope: str, kind: str | None = None) -> DiscoveryRun | None:
    stmt = (
        select(DiscoveryRun)
        .where(DiscoveryRun.scope == scope, DiscoveryRun.status == "completed")  # type: ignore[arg-type]
        .order_by(DiscoveryRun.id.desc())  # type: ignore[union-attr]
        .limit(1)
    )
    if kind is not None:
        stmt = stmt.where(DiscoveryRun.kind == kind)  # type: ignore[arg-type]
    result: DiscoveryRun | None = (await session.execute(stmt)).scalar_one_or_none()
    return result


async def running_runs(session: AsyncSession) -> Sequence[DiscoveryRun]:
    stmt = select(DiscoveryRun).where(DiscoveryRun.status == "running").order_by(DiscoveryRun.id)  # type: ignore[arg-type]
    return (await session.execute(stmt)).scalars().all()


async def lock_row(session: AsyncSession, name: str) -> Any | None:
    """The lease row, locked (PostgreSQL: FOR UPDATE; SQLite: the write lock is already ours)."""
    await session.execute(
        dialect_insert(session)(LOCK)
        .values(name=name, run_id=None, owner="", expires_at=dt.datetime(2000, 1, 1, tzinfo=dt.UTC))
        .on_conflict_do_nothing(index_elements=[LOCK.c.name])
    )
    return (await session.execute(select(LOCK).where(LOCK.c.name == name).with_for_update())).first()


async def set_lock(session: AsyncSession, name: str, run_id: int | None, owner: str, expires_at: dt.datetime) -> None:
    await session.execute(
        update(LOCK).where(LOCK.c.name == name).values(run_id=run_id, owner=owner, expires_at=expires_at)
    )


async def renew_lock(session: AsyncSession, name: str, owner: str, expires_at: dt.datetime) -> bool:
    result = await session.execute(
        update(LOCK).where(LOCK.c.name == name, LOCK.c.owner == owner).values(expires_at=expires_at)
    )
    return bool(getattr(result, "rowcount", 0))


async def release_lock(session: AsyncSession, name: str, owner: str) -> None:
    await session.execute(
        update(LOCK)
        .where(LOCK.c.name == name, LOCK.c.owner == owner)
        .values(run_id=None, owner="", expires_at=dt.datetime(2000, 1, 1, tzinfo=dt.UTC))
    )


async def item_states(session: AsyncSession) -> dict[str, str]:
    rows = (await session.execute(select(STATE.c.item_code, STATE.c.rule_hash))).all()
    return {str(code): str(h) for code, h in rows}


async def save_item_states(
    session: AsyncSession, hashes: dict[str, str], removed: Sequence[str], revision: int, now: dt.datetime
) -> None:
    if removed:
        await session.execute(delete(STATE).where(STATE.c.item_code.in_(list(removed))))
    if hashes:
        ins = dialect_insert(session)(STATE).values(
            [
                {"item_code": c, "rule_hash": h, "catalog_revision": revision, "evaluated_at": now}
                for c, h in hashes.items()
            ]
        )
        ex = ins.excluded
        await session.execute(
            ins.on_conflict_do_update(
                index_elements=[STATE.c.item_code],
                set_={
                    "rule_hash": ex.rule_hash,
                    "catalog_revision": ex.catalog_revision,
                    "evaluated_at": ex.evaluated_at,
                },
            )
        )


# --- the queue of changed residents ---------------------------------------------------------


async def enqueue(session: AsyncSession, resident_ids: Sequence[uuid.UUID], now: dt.datetime) -> None:
    ids = list(dict.fromkeys(resident_ids))
    for part in chunks(ids, 500):
        ins = dialect_insert(session)(PENDING).values([{"resident_id": rid, "queued_at": now} for rid in part])
        await session.execute(
            ins.on_conflict_do_update(
                index_elements=[PENDING.c.resident_id], set_={"queued_at": ins.excluded.queued_at}
            )
        )


async def pending(session: AsyncSession, limit: int) -> list[tuple[uuid.UUID, dt.datetime]]:
    stmt = select(PENDING.c.resident_id, PENDING.c.queued_at).order_by(PENDING.c.queued_at).limit(limit)
    return [(rid, at) for rid, at in (await session.execute(stmt)).all()]


async def dequeue(session: AsyncSession, resident_id: uuid.UUID, queued_at: dt.datetime) -> None:
    """Only if not queued again meanwhile (a newer change keeps its place)."""
    await session.execute(delete(PENDING).where(PENDING.c.resident_id == resident_id, PENDING.c.queued_at <= queued_at))


async def forget_pending_before(session: AsyncSession, before: dt.datetime) -> None:
    """A completed county run covered every change queued before it started."""
    await session.execute(delete(PENDING).where(PENDING.c.queued_at < before))
