"""Every write that brings leads in line with the rules. A run syncs an item's leads over a scope
set-based (PostgreSQL: one statement of data-modifying CTEs over a materialised diff; SQLite: a
temporary candidates table); the Python fallback and the incremental path upsert rows computed
in Python by the same rule (:func:`_refresh`); leads that no longer hold are swept to obsolete."""

from __future__ import annotations

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
    exists,
    func,
    insert,
    literal,
    or_,
    select,
    text,
    update,
)
from sqlalchemy import Uuid as SaUuid
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlmodel.ext.asyncio.session import AsyncSession

from doorstep_shared.db import UTCDateTime

from ..db import chunks, dialect_insert
from .compile_sql import RESIDENT, SqlRule
from .models import SWEPT_STATUSES
from .repository import LEAD, has_open_case, receives, scope_filter
from .rulebook import Scope

logger = logging.getLogger("doorstep.proxy.discovery")
# A run's diff of one item is retried this many times when it races the incremental path.
DIFF_ATTEMPTS = 3

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


def _candidates(sql: SqlRule, item_code: str, scope: Scope) -> Any:
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


def _diff(sql: SqlRule, item_code: str, scope: Scope) -> Any:
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
        gone = and_(gone, scope_filter(scope, lead.c.community))
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
    session: AsyncSession, sql: SqlRule, item_code: str, scope: Scope, pass_id: int, now: dt.datetime
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
    session: AsyncSession, sql: SqlRule, item_code: str, scope: Scope, pass_id: int, now: dt.datetime
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


def _sqlite_writes(cand: Table, item_code: str, scope: Scope, pass_id: int, now: dt.datetime) -> tuple[Any, Any, Any]:
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
        swp = swp.where(scope_filter(scope, LEAD.c.community))
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


async def sweep_item(session: AsyncSession, item_code: str, scope: Scope, pass_id: int, now: dt.datetime) -> int:
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
        stmt = stmt.where(scope_filter(scope, LEAD.c.community))
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


async def insert_leads_plain(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """Plain bulk insert (the naive baseline of the bench only)."""
    for part in chunks(rows, 1000):
        await session.execute(insert(LEAD), list(part))
