"""Runs (bulk, set-based, resumable) and the incremental path (one resident, in Python).

A run holds the ``discovery`` lease (a row in ``discovery_lock``): a second start joins the
running run of the same scope or gets 409; a run whose holder died (lease expired) is taken
over and resumes after its last checkpoint. Each item is one transaction: the set-based upsert
of its leads, the sweep of leads that no longer hold, and the checkpoint — so a crash loses at
most the item in flight and a re-run never duplicates (unique resident × item).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import uuid
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from doorstep_shared.clock import local_today, utcnow
from doorstep_shared.db import hot_read, write_intent
from doorstep_shared.directory import Directory
from doorstep_shared.http.errors import Conflict

from ..catalog_client import CatalogSnapshot
from ..state import state_of
from . import lead_rows
from . import lead_writes as writes
from . import repository as repo
from .compile_sql import mask_of, python_facts, python_fingerprint
from .models import DiscoveryRun
from .rulebook import ItemRule, RuleBook, RuleBooks, Scope

logger = logging.getLogger("doorstep.proxy.discovery")

LOCK_NAME = "discovery"
LEASE = dt.timedelta(seconds=90)
BATCH = 2000  # residents per streamed batch (the Python fallback)
WORKERS = 2  # items evaluated in parallel on PostgreSQL (one connection each)
# A run that inserted at least this many leads (a first fill, a new broad item) refreshes the
# lead table's planner statistics at its end; an ordinary re-run does not pay for it. So does a
# run that filled most of a smaller table (at least ANALYZE_SMALL leads, more than half of all):
# without statistics SQLite sorted a community's every lead for each page of the lead list
# (~6 ms on the demo's 13,898 leads; 0.04 ms with them).
ANALYZE_AFTER = 20_000
ANALYZE_SMALL = 1_000


def new_owner() -> str:
    return uuid.uuid4().hex


# --- one resident: the Python predicate ---------------------------------------------------


def lead_row(
    rule: ItemRule,
    row: Any,
    benefits: set[str],
    on: dt.date,
    now: dt.datetime,
    pass_id: int,
    facts: dict[str, Any] | None = None,
) -> dict[str, Any] | None:
    """The lead this resident has for this item, or None (not eligible / receives it).
    ``facts`` (:func:`python_facts` of the row) may be passed when evaluating many items."""
    if rule.code in benefits:
        return None
    outcome = rule.rule(facts if facts is not None else python_facts(row, benefits, on))
    if outcome.value is False:
        return None
    return {
        "resident_id": row.id,
        "item_code": rule.code,
        "community": row.community,
        "grid": row.grid,
        "verdict": "eligible" if outcome.value else "unknown",
        "status": "new",
        "missing_mask": mask_of(outcome.missing),
        "fingerprint": python_fingerprint(rule.facts, rule.members, row, benefits),
        "first_seen_at": now,
        "last_confirmed_at": now,
        "confirmed_pass": pass_id,
        "version": 1,
    }


async def reevaluate_resident(
    session: AsyncSession, books: RuleBooks, resident_id: uuid.UUID, on: dt.date | None = None
) -> int:
    """Bring one resident's leads up to date with their stored facts (against the handbook of
    their community's county); returns leads held.

    Two reads (the row; benefits, open cases and lead states in one UNION ALL), every item
    evaluated in Python with the compiled closures on the same facts, then at most one bulk
    upsert and one update — and no write at all when nothing changed."""
    on = on or local_today()
    now = utcnow()
    row = await repo.resident_row(session, resident_id)
    # every county's codes: a lead of another county's item (the resident moved) goes too
    benefits, open_cases, existing = await repo.resident_context(session, resident_id, list(books.snapshot.items))
    if row is None or row.status != "active":
        await writes.obsolete_leads(session, resident_id, list(existing), now)
        return 0
    book = books.book_of(row.community)
    facts = python_facts(row, benefits, on)
    rows = []
    held: set[str] = set()
    for rule in book.items.values():
        if rule.code in open_cases:
            continue
        lead = lead_row(rule, row, benefits, on, now, 0, facts)
        if lead is None:
            continue
        held.add(rule.code)
        old = existing.get(rule.code)
        if old is not None and _same(old, lead) and old.status != "obsolete":
            continue  # nothing to write
        rows.append(lead)
    # a lead whose item left the catalogue, is now a case, or no longer holds: obsolete
    gone = [code for code in existing if code not in held]
    if rows:
        await writes.upsert_lead_rows(session, rows, keep_pass=True)
    await writes.obsolete_leads(session, resident_id, gone, now)
    return len(held)


def _same(old: Any, new: dict[str, Any]) -> bool:
    return bool(
        old.verdict == new["verdict"]
        and old.missing_mask == new["missing_mask"]
        and old.fingerprint == new["fingerprint"]
        and old.community == new["community"]
        and old.grid == new["grid"]
    )


async def queue_changed_residents(session: AsyncSession, resident_ids: Sequence[uuid.UUID]) -> None:
    """The subscriber to the ledger's "residents changed" (``events.residents``): the residents are
    queued in the same transaction and re-evaluated shortly after — by the background pass, or by
    the next lead read (read your writes: :func:`drain_pending`)."""
    if resident_ids:
        await repo.enqueue(session, resident_ids, utcnow())


async def drain_pending(
    session: AsyncSession, snapshot: CatalogSnapshot, limit: int = 200, *, directory: Directory | None = None
) -> int:
    """Re-evaluate residents whose facts changed (queued by :func:`queue_changed_residents`)."""
    queued = await repo.pending(session, limit)
    if not queued:
        return 0
    books = RuleBooks(snapshot, directory)
    on = local_today()
    for resident_id, queued_at in queued:
        await reevaluate_resident(session, books, resident_id, on)
        await repo.dequeue(session, resident_id, queued_at)
    return len(queued)


# Residents re-evaluated per transaction of the background pass, and per pass.
DRAIN_BATCH = 50
TICK_DRAIN = 500
# At most this many before a lead read: enough for what one person just changed; a bulk change
# (an import) is the background pass's to work through, not one reader's.
READ_DRAIN = 25


async def refresh_pending(
    sessionmaker: async_sessionmaker[AsyncSession],
    read_engine: AsyncEngine,
    snapshot: Callable[[], Awaitable[CatalogSnapshot]],
    lock: asyncio.Lock,
    *,
    directory: Directory | None = None,
) -> int:
    """Read your writes before a lead read, without making the read a writer.

    A plain read peeks at the change queue (on ``read_engine``'s ``hot_read`` connection: no
    session, on PostgreSQL no SQLAlchemy); only when residents are queued are they
    re-evaluated (against the catalogue's ``snapshot``, asked for then), in a short transaction
    of their own (committed before the read runs), at most ``READ_DRAIN`` of them, and one such
    drain at a time per process (the others wait for it, then find little or nothing left). The
    read itself stays read-only: on SQLite it no longer holds the database's write lock for its
    whole request (under load every visit and case write queued behind lead lists), on
    PostgreSQL it reads outside a transaction."""
    async with hot_read(read_engine) as peek:  # a read, whatever the caller's context says
        if not await lead_rows.anything_pending(peek):
            return 0
    async with lock:
        token = write_intent.set(True)
        try:
            async with sessionmaker() as session:
                drained = await drain_pending(session, await snapshot(), limit=READ_DRAIN, directory=directory)
                await session.commit()
        finally:
            write_intent.reset(token)
    return drained


# --- runs -----------------------------------------------------------------------------------


async def start_run(
    session: AsyncSession,
    snapshot: CatalogSnapshot,
    *,
    scope: str,
    actor: str,
    owner: str,
    kind: str = "full",
    items: Sequence[str] | None = None,
    on: dt.date | None = None,
    directory: Directory | None = None,
) -> tuple[DiscoveryRun, bool]:
    """Take the lease and record a run (the caller commits, then calls :func:`execute`).

    Returns ``(run, started)``: ``started`` is False when the same scope is already running
    (the caller joins it). Another scope running → 409. A run whose lease expired is resumed
    when it is for the same scope, and abandoned otherwise."""
    lock = await repo.lock_row(session, LOCK_NAME)
    assert lock is not None
    now = utcnow()  # after the lease row is ours: times then follow the lease order
    current = await repo.get_run(session, lock.run_id) if lock.run_id is not None else None
    if current is not None and current.status == "running":
        if lock.expires_at > now:
            if current.scope == scope and current.kind == kind:
                return current, False
            raise Conflict(
                f"A discovery run for {current.scope} is in progress (run {current.id}); retry when it ends.",
                code="discovery_running",
                run_id=current.id,
            )
        if current.scope == scope:  # the holder died: take over and resume after the checkpoint
            current.resumed += 1
            current.heartbeat_at = now
            await repo.set_lock(session, LOCK_NAME, current.id, owner, now + LEASE)
            return current, True
        current.status, current.error, current.finished_at = "failed", "abandoned: lease expired", now
    plan = RuleBooks(snapshot, directory).codes() if items is None else list(items)
    run = await repo.create_run(
        session,
        DiscoveryRun(
            kind=kind,
            scope=scope,
            catalog_revision=snapshot.revision,
            eval_date=on or local_today(),
            items=plan,
            items_done=[],
            fallback_items=[],
            started_by=actor,
            started_at=now,
            heartbeat_at=now,
        ),
    )
    await repo.set_lock(session, LOCK_NAME, run.id, owner, now + LEASE)
    return run, True


async def execute(
    sessionmaker: async_sessionmaker[AsyncSession],
    snapshot: CatalogSnapshot,
    run_id: int,
    owner: str,
    *,
    stop_after: int | None = None,
    workers: int | None = None,
    directory: Directory | None = None,
) -> DiscoveryRun | None:
    """Work through the run's remaining items, one transaction (and checkpoint) each.

    On PostgreSQL two workers take items from the plan in parallel, each on its own connection
    (an item's work and its checkpoint still commit together; the run row is locked only for the
    checkpoint itself). SQLite has a single writer: one worker. ``stop_after`` stops after that
    many items without finishing (tests simulate a crash; one worker then). ``directory`` tells
    each community's county, whose handbook its residents are evaluated against."""
    books = RuleBooks(snapshot, directory)
    if workers is None:
        async with sessionmaker() as probe:
            dialect = probe.bind.dialect.name if probe.bind is not None else "sqlite"
        workers = WORKERS if dialect == "postgresql" and stop_after is None else 1
    taken: set[str] = set()
    state = {"done": 0, "stop": False, "inserted": 0}

    async def worker() -> DiscoveryRun | None:
        while True:
            async with sessionmaker() as session:
                run = await repo.get_run(session, run_id)
                if run is None or run.status != "running" or state["stop"]:
                    await session.rollback()
                    return run
                remaining = [c for c in run.items if c not in run.items_done and c not in taken]
                if not remaining or (stop_after is not None and state["done"] >= stop_after):
                    await session.rollback()
                    return run
                code = remaining[0]
                taken.add(code)
                now = utcnow()
                python, inserted = await run_item(session, books, code, run.scope, run.id or 0, run.eval_date, now)
                # the checkpoint: renew the lease, then lock the run row only to record the item
                if not await repo.renew_lock(session, LOCK_NAME, owner, utcnow() + LEASE):
                    await session.rollback()
                    state["stop"] = True
                    logger.warning("discovery run %s: lease lost, stopping", run_id)
                    return None
                run = await repo.get_run(session, run_id, for_update=True)
                if run is None or run.status != "running":
                    await session.rollback()
                    return run
                run.items_done = [*run.items_done, code]
                if python:
                    run.fallback_items = [*run.fallback_items, code]
                run.heartbeat_at = utcnow()
                session.add(run)
                await session.commit()
                state["done"] += 1
                state["inserted"] += inserted

    try:
        tasks = [asyncio.create_task(worker()) for _ in range(workers)]
        try:
            await asyncio.gather(*tasks)
        except BaseException:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            raise
        if state["stop"]:
            return None
        async with sessionmaker() as session:
            now = utcnow()
            if not await repo.renew_lock(session, LOCK_NAME, owner, now + LEASE):
                await session.rollback()
                logger.warning("discovery run %s: lease lost, stopping", run_id)
                return None
            run = await repo.get_run(session, run_id, for_update=True)
            if run is None or run.status != "running":
                await session.rollback()
                return run
            if all(code in run.items_done for code in run.items):
                await _finish(session, books, run, owner, now, inserted=state["inserted"])
            await session.commit()
            return run
    except Exception as exc:
        state["stop"] = True
        logger.exception("discovery run %s failed", run_id)
        async with sessionmaker() as session:
            run = await repo.get_run(session, run_id)
            if run is not None and run.status == "running":
                run.status, run.error, run.finished_at = "failed", type(exc).__name__, utcnow()
                session.add(run)
            await repo.release_lock(session, LOCK_NAME, owner)
            await session.commit()
        raise


async def run_item(
    session: AsyncSession, books: RuleBooks, code: str, scope: str, pass_id: int, on: dt.date, now: dt.datetime
) -> tuple[bool, int]:
    """Bring one item's leads over the scope up to date: (done in Python — the fallback, leads
    inserted by SQL). Each county's residents by their county's rule for the code (one query
    per county); where the county's handbook lacks it, its leads there go."""
    python, inserted = False, 0
    for book, part in books.plan(scope):
        p, n = await _run_item_part(session, book, code, part, pass_id, on, now)
        python, inserted = python or p, inserted + n
    return python, inserted


async def _run_item_part(
    session: AsyncSession, book: RuleBook, code: str, scope: Scope, pass_id: int, on: dt.date, now: dt.datetime
) -> tuple[bool, int]:
    rule = book.items.get(code)
    if rule is not None:
        sql = rule.sql(on)
        if sql is not None:
            inserted, _, _ = await writes.sync_item_leads(session, sql, code, scope, pass_id, now)
            return False, inserted
        await _run_item_in_python(session, rule, scope, pass_id, on, now)
        await writes.sweep_item(session, code, scope, pass_id, now)
        return True, 0
    await writes.sweep_item(session, code, scope, pass_id, now)  # a removed item: every lead goes
    return False, 0


async def _run_item_in_python(
    session: AsyncSession, rule: ItemRule, scope: Scope, pass_id: int, on: dt.date, now: dt.datetime
) -> None:
    """The fallback: stream the scope in id order, a batch at a time (memory stays flat)."""
    after: uuid.UUID | None = None
    while True:
        batch = await repo.resident_batch(session, scope, after, BATCH)
        if not batch:
            return
        ids = [r.id for r in batch]
        benefits = await repo.benefit_codes(session, ids)
        cases = await repo.open_case_items(session, ids)
        rows = []
        for r in batch:
            if rule.code in cases[r.id]:
                continue
            lead = lead_row(rule, r, benefits[r.id], on, now, pass_id)
            if lead is not None:
                rows.append(lead)
        await writes.upsert_lead_rows(session, rows, keep_pass=False)
        after = batch[-1].id


async def _finish(
    session: AsyncSession, books: RuleBooks, run: DiscoveryRun, owner: str, now: dt.datetime, *, inserted: int = 0
) -> None:
    counts = await writes.run_counts(session, run.items, run.scope)
    run.eligible, run.unknown = counts.get("eligible", 0), counts.get("unknown", 0)
    analyze = inserted >= ANALYZE_AFTER or (inserted >= ANALYZE_SMALL and 2 * inserted > run.eligible + run.unknown)
    run.status, run.finished_at, run.heartbeat_at = "completed", now, now
    session.add(run)
    if run.scope == "county":
        current = books.hashes()
        hashes = {code: current[code] for code in run.items if code in current}
        removed = [code for code in run.items if code not in current]
        await repo.save_item_states(session, hashes, removed, run.catalog_revision, now)
        if run.kind == "full":
            await repo.forget_pending_before(session, run.started_at)
    await repo.release_lock(session, LOCK_NAME, owner)
    if analyze:
        await writes.refresh_lead_statistics(session)


# --- what to run without being asked ---------------------------------------------------------


async def changed_items(session: AsyncSession, books: RuleBooks) -> list[str]:
    """Items whose rule (in some county) differs from the last county-wide evaluation (new,
    edited, removed)."""
    seen = await repo.item_states(session)
    current = books.hashes()
    changed = {code for code, h in current.items() if seen.get(code) != h}
    changed |= {code for code in seen if code not in current}
    return sorted(changed)


async def plan_automatic(
    session: AsyncSession, snapshot: CatalogSnapshot, today: dt.date, directory: Directory | None = None
) -> tuple[str, list[str] | None] | None:
    """What the background pass should start: a county run once a day (ages move on), a run of
    just the changed items when the catalogue's rules changed, or nothing."""
    last = await repo.last_completed_run(session, "county", "full")
    if last is None or last.eval_date < today:
        return "full", None
    changed = await changed_items(session, RuleBooks(snapshot, directory))
    if changed:
        return "rules", changed
    return None


async def tick(app: FastAPI) -> None:
    """One background pass: drain the change queue, resume a crashed run, start what is due."""
    state = state_of(app)
    snapshot = await state.catalog.snapshot()
    sessionmaker = state.sessionmaker
    directory = state.tenancy_directory()
    # The change queue in short transactions: on SQLite each holds the database's write lock,
    # and one of 500 re-evaluations held it for seconds while every request's write waited.
    for _ in range(TICK_DRAIN // DRAIN_BATCH):
        async with sessionmaker() as session:
            drained = await drain_pending(session, snapshot, limit=DRAIN_BATCH, directory=directory)
            await session.commit()
        if drained < DRAIN_BATCH:
            break
    async with sessionmaker() as session:
        now = utcnow()
        owner = new_owner()
        lock = await repo.lock_row(session, LOCK_NAME)
        assert lock is not None
        if lock.expires_at > now:
            await session.commit()
            return  # a run is alive somewhere
        stale = await repo.get_run(session, lock.run_id) if lock.run_id is not None else None
        if stale is not None and stale.status == "running":
            run, _ = await start_run(
                session,
                snapshot,
                scope=stale.scope,
                actor="system",
                owner=owner,
                kind=stale.kind,
                directory=directory,
            )
        else:
            plan = await plan_automatic(session, snapshot, local_today(), directory)
            if plan is None:
                await session.commit()
                return
            kind, items = plan
            run, _ = await start_run(
                session,
                snapshot,
                scope="county",
                actor="system",
                owner=owner,
                kind=kind,
                items=items,
                directory=directory,
            )
        run_id = run.id or 0
        await session.commit()
    await execute(sessionmaker, snapshot, run_id, owner, directory=directory)
