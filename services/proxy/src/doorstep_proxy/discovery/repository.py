"""Every discovery query: the set-based lead upsert of a run, the sweep, the per-resident reads of
the incremental path, lead lists (tenancy applied here), figures, the run lease and the queue."""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    Column,
    ColumnElement,
    Integer,
    MetaData,
    String,
    Table,
    and_,
    case,
    delete,
    exists,
    func,
    insert,
    literal,
    or_,
    select,
    text,
    union_all,
    update,
)
from sqlalchemy import Uuid as SaUuid
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from doorstep_shared import org
from doorstep_shared.db import UTCDateTime
from doorstep_shared.tokens import Principal

from ..cases.models import CLOSED_STATUSES, ProxyCase
from ..db import chunks, dialect_insert
from ..tenancy import scoped
from ..workers.models import WorkerGrid
from .compile_sql import BENEFIT, RESIDENT, SqlRule
from .models import (
    SWEPT_STATUSES,
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

logger = logging.getLogger("doorstep.proxy.discovery")
# A run's diff of one item is retried this many times when it races the incremental path.
DIFF_ATTEMPTS = 3
STATE: Table = DiscoveryItemState.__table__  # type: ignore[attr-defined]

LEAD_COLUMNS = (
    "resident_id",
    "item_code",
    "community",
    "grid",
    "verdict",
    "status",
    "missing_mask",
    "fingerprint",
    "first_seen_at",
    "last_confirmed_at",
    "confirmed_pass",
    "version",
)


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


def scope_filter(scope: str) -> ColumnElement[bool]:
    return literal(True) if scope == "county" else RESIDENT.c.community == scope


def _refresh(cols: Any, at: Any, confirmed_pass: Any) -> tuple[ColumnElement[bool], dict[str, Any]]:
    """The one rule for bringing a lead in line with what is computed now (``cols``: a diff's or
    a candidates table's columns, or an upsert's ``excluded``): the new values, and whether the
    lead's verdict changed or it reopens. An obsolete lead comes back as new; a declined one
    only when the facts it was declined on changed (its fingerprint)."""
    reopen = (LEAD.c.status == "obsolete") | ((LEAD.c.status == "declined") & (LEAD.c.fingerprint != cols.fingerprint))
    changed = reopen | (LEAD.c.verdict != cols.verdict)
    values = {
        "community": cols.community,
        "grid": cols.grid,
        "verdict": cols.verdict,
        "missing_mask": cols.missing_mask,
        "fingerprint": cols.fingerprint,
        "last_confirmed_at": at,
        "confirmed_pass": confirmed_pass,
        "status": case((reopen, "new"), else_=LEAD.c.status),
        "status_changed_at": case((reopen, at), else_=LEAD.c.status_changed_at),
        "status_by": case((reopen, None), else_=LEAD.c.status_by),
        "version": LEAD.c.version + case((changed, 1), else_=0),
    }
    return changed, values


def _on_conflict(ins: Any, *, keep_pass: bool) -> Any:
    """Shared by the bulk and the per-resident upsert: a lead is never duplicated; it is
    refreshed by the same rule as a run's (``_refresh``); a converted one is history and stays
    as it is."""
    ex = ins.excluded
    _, values = _refresh(ex, ex.last_confirmed_at, LEAD.c.confirmed_pass if keep_pass else ex.confirmed_pass)
    return ins.on_conflict_do_update(
        index_elements=[LEAD.c.item_code, LEAD.c.resident_id], set_=values, where=LEAD.c.status != "converted"
    )


def _candidates(sql: SqlRule, item_code: str, scope: str) -> Any:
    """The item's leads as they should be: residents in scope the rule does not rule out, who
    neither receive the item nor have an open case for it (verdict, missing facts, fingerprint)."""
    return select(
        RESIDENT.c.id.label("resident_id"),
        RESIDENT.c.community.label("community"),
        RESIDENT.c.grid.label("grid"),
        case((sql.true, "eligible"), else_="unknown").label("verdict"),
        sql.missing_mask().label("missing_mask"),
        sql.fingerprint().label("fingerprint"),
    ).where(
        RESIDENT.c.status == "active",
        scope_filter(scope),
        sql.candidate,
        ~receives(item_code),
        ~has_open_case(item_code),
    )


def _diff(sql: SqlRule, item_code: str, scope: str) -> Any:
    """One join of the item's candidates with the item's existing leads (FULL OUTER JOIN on the
    resident), keeping only what must be written: candidates without a lead (insert), leads that
    really differ from their candidate (update: reopen an obsolete one, a declined one whose facts
    changed; a new verdict, missing facts, fingerprint, community or grid) and open or declined
    leads in scope without a candidate (obsolete). Unchanged leads drop out here: a re-run writes
    nothing for them (the run row is their "last confirmed" marker, see ``lead_reads``)."""
    cand = _candidates(sql, item_code, scope).subquery("c")
    lead = (
        select(
            LEAD.c.id,
            LEAD.c.resident_id,
            LEAD.c.status,
            LEAD.c.verdict,
            LEAD.c.missing_mask,
            LEAD.c.fingerprint,
            LEAD.c.community,
            LEAD.c.grid,
        )
        .where(LEAD.c.item_code == item_code)
        .subquery("l")
    )
    differs = (
        (lead.c.status == "obsolete")
        | (lead.c.verdict != cand.c.verdict)
        | (lead.c.missing_mask != cand.c.missing_mask)
        | (lead.c.fingerprint != cand.c.fingerprint)
        | (lead.c.community != cand.c.community)
        | (lead.c.grid != cand.c.grid)
    )
    gone = and_(cand.c.resident_id.is_(None), lead.c.status.in_(SWEPT_STATUSES))
    if scope != "county":
        gone = and_(gone, lead.c.community == scope)
    return (
        select(
            cand.c.resident_id,
            cand.c.community,
            cand.c.grid,
            cand.c.verdict,
            cand.c.missing_mask,
            cand.c.fingerprint,
            lead.c.id.label("lead_id"),
        )
        .select_from(cand.outerjoin(lead, lead.c.resident_id == cand.c.resident_id, full=True))
        .where(
            or_(
                lead.c.id.is_(None),
                gone,
                and_(cand.c.resident_id.is_not(None), lead.c.status != "converted", differs),
            )
        )
    )


def _insert_new_leads(src: Any, item_code: str, pass_id: int, at: Any) -> Any:
    """INSERT the rows of ``src`` (resident_id, community, grid, verdict, missing_mask,
    fingerprint) as new leads of the item."""
    return insert(LEAD).from_select(
        list(LEAD_COLUMNS),
        select(
            src.c.resident_id,
            literal(item_code),
            src.c.community,
            src.c.grid,
            src.c.verdict,
            literal("new"),
            src.c.missing_mask,
            src.c.fingerprint,
            at,
            at,
            literal(pass_id),
            literal(1),
        ),
    )


def _apply_diff(diff: Any, item_code: str, pass_id: int, now: dt.datetime) -> tuple[Any, Any, Any]:
    """The three writes of a diff (a CTE or a temporary table): insert, update, obsolete."""
    at = literal(now, UTCDateTime())
    # A plain INSERT, not ON CONFLICT: the diff already left out every lead that exists, and
    # speculative insertion cost a third more per row (see ``_pg_sync`` for the race).
    ins = _insert_new_leads(select(diff).where(diff.c.lead_id.is_(None)).subquery(), item_code, pass_id, at)
    _, refreshed = _refresh(diff.c, at, pass_id)
    upd = (
        update(LEAD)
        .where(LEAD.c.id == diff.c.lead_id, diff.c.resident_id.is_not(None), LEAD.c.status != "converted")
        .values(**refreshed)
    )
    swp = (
        update(LEAD)
        .where(LEAD.c.id == diff.c.lead_id, diff.c.resident_id.is_(None), LEAD.c.status.in_(SWEPT_STATUSES))
        .values(status="obsolete", status_changed_at=at, status_by=None, version=LEAD.c.version + 1)
    )
    return ins, upd, swp


async def sync_item_leads(
    session: AsyncSession, sql: SqlRule, item_code: str, scope: str, pass_id: int, now: dt.datetime
) -> tuple[int, int, int]:
    """Bring one item's leads over the scope in line with the rule: (inserted, updated, obsoleted).

    PostgreSQL: one statement — the diff is computed once (a materialised CTE: one scan of the
    register, one join with the item's leads) and feeds three data-modifying CTEs. SQLite (no
    data-modifying CTEs): the candidates go to a temporary table first."""
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    if dialect == "postgresql":
        return await _pg_sync(session, sql, item_code, scope, pass_id, now)
    # SQLite: the candidates go to a temporary table keyed by resident; each write then joins
    # it through an index (the FULL OUTER JOIN of two subqueries is not planned well there).
    await session.execute(text("DROP TABLE IF EXISTS temp.discovery_cand"))
    await session.execute(
        text(
            "CREATE TEMP TABLE discovery_cand (resident_id CHAR(32) PRIMARY KEY, community TEXT, grid TEXT,"
            " verdict TEXT, missing_mask INTEGER, fingerprint TEXT)"
        )
    )
    try:
        await session.execute(insert(_CAND).from_select(list(_CAND.c.keys()), _candidates(sql, item_code, scope)))
        counts = []
        for stmt in _sqlite_writes(_CAND, item_code, scope, pass_id, now):
            result = await session.execute(stmt)
            counts.append(int(getattr(result, "rowcount", 0) or 0))
    finally:
        await session.execute(text("DROP TABLE IF EXISTS temp.discovery_cand"))
    return counts[0], counts[1], counts[2]


async def _pg_sync(
    session: AsyncSession, sql: SqlRule, item_code: str, scope: str, pass_id: int, now: dt.datetime
) -> tuple[int, int, int]:
    """PostgreSQL: an item without any lead yet (a county's first fill, a new item) is one
    INSERT … SELECT of its candidates; otherwise the diff. Both insert without ON CONFLICT: a
    lead the incremental path commits after the statement's snapshot raises a unique violation,
    and the item is tried again in a fresh savepoint, whose statement sees that lead."""
    # the diff's hash join holds the item's leads: keep it in memory (this transaction only).
    # No waiting for the WAL flush at commit: a run's transactions are derived data with their
    # checkpoint inside, so one lost in a crash is simply redone when the run resumes.
    # No JIT either: PostgreSQL compiles plans that cost over 100,000 (jit_above_cost); the
    # biggest item's plan costs about 36,000 at 200,000 residents and grows with the register,
    # and compiling costs more than it saves on these simple expressions (a statement over ten
    # items at 200,000 residents: 2.0 s of JIT for 0.5 s of execution).
    await session.execute(
        text(
            "SELECT set_config('work_mem', '64MB', true), set_config('synchronous_commit', 'off', true),"
            " set_config('jit', 'off', true)"
        )
    )
    attempt = 1
    while True:
        try:
            async with session.begin_nested():
                if not await _item_has_leads(session, item_code):
                    cand = _candidates(sql, item_code, scope).subquery("c")
                    result = await session.execute(
                        _insert_new_leads(cand, item_code, pass_id, literal(now, UTCDateTime()))
                    )
                    return int(getattr(result, "rowcount", 0) or 0), 0, 0
                diff = _diff(sql, item_code, scope).cte("diff").prefix_with("MATERIALIZED")
                stmt = select(
                    *(
                        select(func.count()).select_from(dml.returning(LEAD.c.id).cte(name)).scalar_subquery()
                        for name, dml in zip(
                            ("ins", "upd", "swp"), _apply_diff(diff, item_code, pass_id, now), strict=True
                        )
                    )
                )
                inserted, updated, swept = (await session.execute(stmt)).one()
                return int(inserted), int(updated), int(swept)
        except IntegrityError:
            if attempt >= DIFF_ATTEMPTS:
                raise
            attempt += 1
            logger.info("discovery: %s raced an incremental update, evaluating it again", item_code)


async def refresh_lead_statistics(session: AsyncSession) -> None:
    """ANALYZE the lead table at the end of a run that inserted many leads: a first fill adds hundreds of thousands of
    rows at once, and until autovacuum notices, the next run's diff would be planned on the
    statistics of an empty table. A sample of 30,000 rows; tens of milliseconds. Without the
    right (table owner) the run still completes."""
    try:
        async with session.begin_nested():
            await session.execute(text("ANALYZE discovery_lead"))
    except DBAPIError as exc:
        logger.warning("discovery: could not ANALYZE discovery_lead (%s)", type(exc.orig).__name__)


async def _item_has_leads(session: AsyncSession, item_code: str) -> bool:
    # Ordered like the unique (item, resident) index, so the probe is one index descent: as a
    # bare EXISTS the planner expects a match within the first rows of a sequential scan, and
    # for an item whose leads lie at the end of the table it read most of it (4 ms an item).
    stmt = (
        select(LEAD.c.item_code)
        .where(LEAD.c.item_code == item_code)
        .order_by(LEAD.c.item_code, LEAD.c.resident_id)
        .limit(1)
    )
    return (await session.execute(stmt)).first() is not None


def _sqlite_writes(cand: Table, item_code: str, scope: str, pass_id: int, now: dt.datetime) -> tuple[Any, Any, Any]:
    """The same three writes as :func:`_apply_diff`, from a candidates table (SQLite)."""
    at = literal(now, UTCDateTime())
    lead_of = exists(select(LEAD.c.id).where(LEAD.c.resident_id == cand.c.resident_id, LEAD.c.item_code == item_code))
    # one writer (BEGIN IMMEDIATE): no lead can appear between this check and the insert
    ins = _insert_new_leads(select(cand).where(~lead_of).subquery(), item_code, pass_id, at)
    changed, refreshed = _refresh(cand.c, at, pass_id)
    differs = (
        changed
        | (LEAD.c.missing_mask != cand.c.missing_mask)
        | (LEAD.c.fingerprint != cand.c.fingerprint)
        | (LEAD.c.community != cand.c.community)
        | (LEAD.c.grid != cand.c.grid)
    )
    upd = (
        update(LEAD)
        .where(
            LEAD.c.resident_id == cand.c.resident_id,
            LEAD.c.item_code == item_code,
            LEAD.c.status != "converted",
            differs,
        )
        .values(**refreshed)
    )
    swp = (
        update(LEAD)
        .where(
            LEAD.c.item_code == item_code,
            LEAD.c.status.in_(SWEPT_STATUSES),
            ~exists(select(cand.c.resident_id).where(cand.c.resident_id == LEAD.c.resident_id)),
        )
        .values(status="obsolete", status_changed_at=at, status_by=None, version=LEAD.c.version + 1)
    )
    if scope != "county":
        swp = swp.where(LEAD.c.community == scope)
    return ins, upd, swp


_CAND = Table(
    "discovery_cand",
    MetaData(),
    Column("resident_id", SaUuid(), primary_key=True),
    Column("community", String),
    Column("grid", String),
    Column("verdict", String),
    Column("missing_mask", Integer),
    Column("fingerprint", String),
)


async def upsert_lead_rows(session: AsyncSession, rows: list[dict[str, Any]], *, keep_pass: bool) -> None:
    """The same upsert from rows computed in Python (fallback items, the incremental path)."""
    for part in chunks(rows, 500):
        ins = dialect_insert(session)(LEAD).values(list(part))
        await session.execute(_on_conflict(ins, keep_pass=keep_pass))


async def sweep_item(session: AsyncSession, item_code: str, scope: str, pass_id: int, now: dt.datetime) -> int:
    """Leads of the item in scope that this pass did not confirm no longer hold: obsolete."""
    stmt = (
        update(LEAD)
        .where(
            LEAD.c.item_code == item_code,
            LEAD.c.status.in_(SWEPT_STATUSES),
            LEAD.c.confirmed_pass != pass_id,
        )
        .values(status="obsolete", status_changed_at=now, status_by=None, version=LEAD.c.version + 1)
    )
    if scope != "county":
        stmt = stmt.where(LEAD.c.community == scope)
    result = await session.execute(stmt)
    return int(getattr(result, "rowcount", 0) or 0)


async def obsolete_leads(
    session: AsyncSession, resident_id: uuid.UUID, item_codes: Sequence[str], now: dt.datetime
) -> None:
    if not item_codes:
        return
    await session.execute(
        update(LEAD)
        .where(
            LEAD.c.resident_id == resident_id, LEAD.c.item_code.in_(list(item_codes)), LEAD.c.status.in_(SWEPT_STATUSES)
        )
        .values(status="obsolete", status_changed_at=now, status_by=None, version=LEAD.c.version + 1)
    )


async def run_counts(session: AsyncSession, item_codes: Sequence[str], scope: str) -> dict[str, int]:
    """A completed run's eligible / unknown leads: after its last item, the leads of its items in
    scope that are new, contacted or declined are exactly the ones it confirmed (every other one
    was made obsolete, and converted ones are history)."""
    stmt = (
        select(LEAD.c.verdict, func.count())
        .where(LEAD.c.item_code.in_(list(item_codes)), LEAD.c.status.in_(SWEPT_STATUSES))
        .group_by(LEAD.c.verdict)
    )
    if scope != "county":
        stmt = stmt.where(LEAD.c.community == scope)
    return {v: int(n) for v, n in (await session.execute(stmt)).all()}


async def last_runs_covering(session: AsyncSession, scopes: Sequence[str]) -> Sequence[DiscoveryRun]:
    """The latest completed runs over these scopes, newest first (the "last confirmed" markers)."""
    stmt = (
        select(DiscoveryRun)
        .where(DiscoveryRun.status == "completed", DiscoveryRun.scope.in_(list(scopes)))  # type: ignore[arg-type,attr-defined]
        .order_by(DiscoveryRun.id.desc())  # type: ignore[union-attr]
        .limit(20)
    )
    return (await session.execute(stmt)).scalars().all()


# --- streaming (the Python fallback and the naive paths never hold the register) ----------


async def resident_batch(session: AsyncSession, scope: str, after: uuid.UUID | None, size: int) -> Sequence[Any]:
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


async def get_lead(
    session: AsyncSession, principal: Principal, lead_id: int, *, for_update: bool = False
) -> DiscoveryLead | None:
    stmt = scoped(select(DiscoveryLead).where(DiscoveryLead.id == lead_id), DiscoveryLead, principal)  # type: ignore[arg-type]
    if for_update:
        stmt = stmt.with_for_update()
    result: DiscoveryLead | None = (await session.execute(stmt)).scalar_one_or_none()
    return result


def in_grids(grids: Sequence[str]) -> ColumnElement[bool]:
    """Leads in these grids, phrased for the (community, grid, id) index: each grid's community
    (fixed by the organisation) goes first, so a grid list is one index range per grid."""
    communities = sorted({org.GRID_BY_CODE[g].community for g in grids if g in org.GRID_BY_CODE})
    return and_(LEAD.c.community.in_(communities), LEAD.c.grid.in_(list(grids)))


async def worker_grids(session: AsyncSession, username: str) -> list[str]:
    stmt = select(col(WorkerGrid.grid)).where(col(WorkerGrid.username) == username).order_by(col(WorkerGrid.grid))
    return list((await session.execute(stmt)).scalars().all())


async def list_leads(
    session: AsyncSession,
    principal: Principal,
    *,
    community: str | None,
    grids: Sequence[str] | None,
    item_code: str | None,
    statuses: Sequence[str],
    verdict: str | None,
    missing_bit: int | None,
    after: int | None,
    limit: int,
) -> Sequence[DiscoveryLead]:
    lead = DiscoveryLead
    stmt = scoped(select(lead).order_by(lead.id).limit(limit), lead, principal)  # type: ignore[arg-type]
    if community is not None:
        stmt = stmt.where(lead.community == community)
    if grids is not None:
        stmt = stmt.where(in_grids(grids))
    if item_code is not None:
        stmt = stmt.where(lead.item_code == item_code)
    if statuses:
        stmt = stmt.where(lead.status.in_(list(statuses)))  # type: ignore[attr-defined]
    if verdict is not None:
        stmt = stmt.where(lead.verdict == verdict)
    if missing_bit is not None:
        stmt = stmt.where(lead.missing_mask.op("&")(missing_bit) != 0)  # type: ignore[attr-defined]
    if after is not None:
        stmt = stmt.where(lead.id > after)  # type: ignore[operator]
    return (await session.execute(stmt)).scalars().all()


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


async def insert_leads_plain(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """Plain bulk insert (the naive baseline of the bench only)."""
    for part in chunks(rows, 1000):
        await session.execute(insert(LEAD), list(part))
