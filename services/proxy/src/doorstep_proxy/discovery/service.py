"""Leads and explanations: what a worker reads and does (no FastAPI, no commit).

Reasons are rendered from the resident's *stored* facts with the item's compiled closure when a
lead is read, so they always say why today; the lead row keeps the verdict, the missing facts
(a bit mask) and the fingerprint of the facts the rule read.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from doorstep_shared.auth.tokens import Principal
from doorstep_shared.clock import local_today, utcnow
from doorstep_shared.db import hot_read
from doorstep_shared.db.driver import HotReader
from doorstep_shared.directory import Directory
from doorstep_shared.http import check_if_match, etag_of
from doorstep_shared.http.errors import Conflict, Forbidden, Invalid, NotFound
from doorstep_shared.pii import PiiCipher
from doorstep_shared.rules.vocabulary import FACT_BY_NAME

from ..cases import intake  # the cases sub-domain owns intake rules
from ..catalog_client import CatalogClient
from ..ledger import service as ledger
from ..workers import service as workers
from . import lead_rows, reads
from . import repository as repo
from .compile_sql import FACT_BITS, birth_bound, birthday, facts_in, python_facts
from .models import DiscoveryLead, DiscoveryRun
from .reads import confirmed_markers, reason_words
from .rulebook import RuleBook, RuleBooks, Scope
from .runs import refresh_pending
from .schemas import (
    ComingDue,
    ConversionRead,
    EligibilityItem,
    EligibilityRead,
    ItemFigure,
    LeadFigures,
    LeadMaterialRead,
    LeadRead,
    NeedsSurvey,
    RunRead,
    SurveyGroup,
)


def lead_etag(lead: DiscoveryLead) -> str:
    return etag_of("lead", lead.id, lead.version)


async def lead_reads(
    session: AsyncSession, principal: Principal, cipher: PiiCipher, leads: Sequence[DiscoveryLead], books: RuleBooks
) -> list[LeadRead]:
    """The page of leads with their residents as the caller may see them (one query for all)."""
    ids = list({lead.resident_id for lead in leads})
    residents = await repo.residents_by_id(session, ids)
    benefits = await repo.benefit_codes(session, ids)
    confirmed = await confirmed_markers(session, leads)
    on = local_today()
    out = []
    for lead in leads:
        r = residents[lead.resident_id]
        book = books.book_of(lead.community)  # the handbook of the lead's county
        item_rule = book.items.get(lead.item_code)
        item = book.handbook.get(lead.item_code)
        name = item.name if item else lead.item_code
        reasons: list[str] = []
        if item_rule is not None:
            reasons = list(item_rule.rule(python_facts(r, benefits.get(r.id, set()), on)).reasons)
        missing = facts_in(lead.missing_mask)
        face = ledger.resident_face(principal, cipher, r, on)
        out.append(
            LeadRead(
                id=lead.id or 0,
                resident_id=r.id,
                resident_name=face.name,
                phone_masked=face.phone_masked,
                age=face.age,
                gender=face.gender,
                address=face.address,
                compound=face.address.compound,
                building=face.address.building,
                unit=face.address.unit,
                room=face.address.room,
                community=lead.community,
                grid=lead.grid,
                item_code=lead.item_code,
                item_name=name,
                proxy_eligible=bool(item and item.proxy_eligible),
                verdict=lead.verdict,
                status=lead.status,
                reason=reason_words(reasons, lead.verdict, name),
                reasons=reasons,
                missing_facts=missing,
                missing_labels=[FACT_BY_NAME[f].label for f in missing],
                materials=[
                    LeadMaterialRead(name=m.name, form=m.form, count=m.count, notes=m.notes)
                    for m in (item.materials if item else [])
                ],
                declined_reason=lead.declined_reason,
                case_id=lead.case_id,
                first_seen_at=lead.first_seen_at,
                last_confirmed_at=confirmed.get(lead.id or 0, lead.last_confirmed_at),
                status_changed_at=lead.status_changed_at,
                status_by=lead.status_by,
                version=lead.version,
            )
        )
    return out


async def books_of(catalog: CatalogClient) -> RuleBooks:
    """The compiled rules of every county's handbook (a resident's: their community's county's)."""
    return RuleBooks(await catalog.snapshot(), catalog.directory.current if catalog.directory is not None else None)


async def refresh_leads(
    sessionmaker: async_sessionmaker[AsyncSession], read_engine: AsyncEngine, catalog: CatalogClient, lock: asyncio.Lock
) -> None:
    """Before a lead read: re-evaluate residents whose facts changed (read your writes), in a
    transaction of its own and only when some are queued (``runs.refresh_pending``)."""
    directory = catalog.directory.current if catalog.directory is not None else None
    await refresh_pending(sessionmaker, read_engine, catalog.snapshot, lock, directory=directory)


async def grids_for(
    session: AsyncSession, principal: Principal, grid: str | None, worker: str | None
) -> list[str] | None:
    if worker is None:
        return [grid] if grid is not None else None
    username = principal.subject if worker == "me" else worker
    grids = await workers.grids_of_worker(session, username)
    if not grids and username == principal.subject and principal.grid:
        grids = [principal.grid]
    if grid is not None:
        grids = [g for g in grids if g == grid]
    return grids


async def list_leads(
    session: AsyncSession,
    read_engine: AsyncEngine,
    principal: Principal,
    cipher: PiiCipher,
    catalog: CatalogClient,
    *,
    community: str | None,
    grid: str | None,
    worker: str | None,
    item_code: str | None,
    resident: uuid.UUID | None,
    statuses: Sequence[str],
    verdict: str | None,
    missing: str | None,
    after: int | None,
    limit: int,
) -> tuple[list[dict[str, Any]], int | None]:
    """A page of leads as plain dicts in ``LeadRead``'s shape (the lean path, ``reads.py``) and
    the id the next page starts after. The page is read on ``read_engine``'s ``hot_read``
    connection; ``session`` only finds a worker's grids."""
    book = await books_of(catalog)
    grids = await grids_for(session, principal, grid, worker)
    if missing is not None and missing not in FACT_BITS:
        raise Invalid.field("query.missing", "not a fact of the rule vocabulary")
    filters = {
        "community": community,
        "grids": grids,
        "item_code": item_code,
        "resident_id": resident,
        "statuses": list(statuses) or None,
        "verdict": verdict,
        "missing_bit": FACT_BITS[missing] if missing else None,
        "after": after,
    }
    async with hot_read(read_engine) as conn:
        leads = list(await lead_rows.lead_page(conn, principal, limit=limit + 1, filters=filters))
        more = len(leads) > limit
        leads = leads[:limit]
        items = await reads.lead_items(conn, principal, cipher, leads, book)
    return items, (leads[-1].id if more and leads else None)


async def _lead(
    session: AsyncSession, principal: Principal, lead_id: int, *, for_update: bool = False
) -> DiscoveryLead:
    lead = await repo.get_lead(session, principal, lead_id, for_update=for_update)
    if lead is None:
        raise NotFound("No such lead.", code="lead_not_found")
    return lead


async def get_lead(
    session: AsyncSession, principal: Principal, cipher: PiiCipher, catalog: CatalogClient, lead_id: int
) -> LeadRead:
    lead = await _lead(session, principal, lead_id)
    return (await lead_reads(session, principal, cipher, [lead], await books_of(catalog)))[0]


async def get_lead_item(
    conn: HotReader, principal: Principal, cipher: PiiCipher, catalog: CatalogClient, lead_id: int
) -> dict[str, Any]:
    """One lead as a plain dict in ``LeadRead``'s shape (the lean path; writes answer ``get_lead``)."""
    book = await books_of(catalog)
    lead = await lead_rows.lead_row(conn, principal, lead_id)
    if lead is None:
        raise NotFound("No such lead.", code="lead_not_found")
    return (await reads.lead_items(conn, principal, cipher, [lead], book))[0]


def _transition(lead: DiscoveryLead, allowed_from: Sequence[str], to: str, actor: str) -> None:
    if lead.status not in allowed_from:
        raise Conflict(
            f"A {lead.status} lead cannot become {to}.",
            code="illegal_lead_transition",
            status_now=lead.status,
        )
    lead.status = to
    lead.status_changed_at = utcnow()
    lead.status_by = actor
    lead.version += 1


async def mark_contacted(
    session: AsyncSession,
    principal: Principal,
    cipher: PiiCipher,
    catalog: CatalogClient,
    lead_id: int,
    if_match: str | None,
) -> LeadRead:
    lead = await _lead(session, principal, lead_id, for_update=True)
    check_if_match(if_match, lead_etag(lead), current_version=lead.version)
    _transition(lead, ("new", "contacted"), "contacted", principal.subject)
    session.add(lead)
    await session.flush()
    return await get_lead(session, principal, cipher, catalog, lead_id)


async def decline(
    session: AsyncSession,
    principal: Principal,
    cipher: PiiCipher,
    catalog: CatalogClient,
    lead_id: int,
    reason: str,
    if_match: str | None,
) -> LeadRead:
    lead = await _lead(session, principal, lead_id, for_update=True)
    check_if_match(if_match, lead_etag(lead), current_version=lead.version)
    _transition(lead, ("new", "contacted"), "declined", principal.subject)
    lead.declined_reason = reason
    session.add(lead)
    await session.flush()
    return await get_lead(session, principal, cipher, catalog, lead_id)


async def convert(
    session: AsyncSession,
    principal: Principal,
    cipher: PiiCipher,
    catalog: CatalogClient,
    lead_id: int,
    *,
    channel: str,
    case_id: uuid.UUID | None,
    note: str | None,
    if_match: str | None,
) -> ConversionRead:
    """One call: the lead becomes a doorstep (or window) case with the item's materials."""
    lead = await _lead(session, principal, lead_id, for_update=True)
    check_if_match(if_match, lead_etag(lead), current_version=lead.version)
    if lead.status == "converted" and lead.case_id is not None:
        raise Conflict("This lead is already a case.", code="lead_converted", case_id=str(lead.case_id))
    _transition(lead, ("new", "contacted"), "converted", principal.subject)
    case = await intake.create_case(
        session,
        principal,
        catalog,
        resident_id=lead.resident_id,
        item_code=lead.item_code,
        channel=channel,
        case_id=case_id,
        note=note or "由资格摸排线索转为代办件",
    )
    lead.case_id = case.id
    session.add(lead)
    await session.flush()
    read = await get_lead(session, principal, cipher, catalog, lead_id)
    return ConversionRead(
        lead=read,
        case_id=case.id,
        case_status=case.status,
        materials=[str(m.get("name")) for m in (case.snapshot.get("materials") or [])],
    )


async def figures(
    session: AsyncSession, principal: Principal, catalog: CatalogClient, community: str | None, grid: str | None
) -> LeadFigures:
    snapshot = await catalog.snapshot()
    rows = await repo.lead_figures(session, principal, community, grid)
    by_item: dict[str, dict[str, int]] = {}
    totals = {"found": 0, "needs_survey": 0, "contacted": 0, "declined": 0, "converted": 0, "obsolete": 0}
    for item, verdict, status, n in rows:
        slot = by_item.setdefault(item, {"eligible": 0, "unknown": 0, "converted": 0, "declined": 0})
        if status in ("new", "contacted"):
            slot[verdict] += n
            totals["found" if verdict == "eligible" else "needs_survey"] += n
        if status in ("contacted", "declined", "converted", "obsolete"):
            totals[status] += n
        if status in ("converted", "declined"):
            slot[status] += n
    return LeadFigures(
        **totals,
        by_item=[
            ItemFigure(item_code=code, item_name=snapshot.items[code].name if code in snapshot.items else code, **slot)
            for code, slot in sorted(by_item.items())
        ],
    )


# --- explanations -----------------------------------------------------------------------------


async def eligibility(
    session: AsyncSession,
    principal: Principal,
    catalog: CatalogClient,
    resident_id: uuid.UUID,
    on: dt.date | None = None,
) -> EligibilityRead:
    """Every published item: eligible / not eligible / unknown and why, from the stored facts."""
    if await ledger.visible_resident(session, principal, resident_id) is None:
        raise NotFound("No such resident.", code="resident_not_found")
    books = await books_of(catalog)
    snapshot = books.snapshot
    on = on or local_today()
    row = await repo.resident_row(session, resident_id)
    book = books.book_of(row.community if row is not None else None)  # the resident's county's
    held = (await repo.benefit_codes(session, [resident_id]))[resident_id]
    cases = (await repo.open_case_items(session, [resident_id]))[resident_id]
    facts = python_facts(row, held, on)
    results = []
    for code, rule in book.items.items():
        outcome = rule.rule(facts)
        results.append(
            EligibilityItem(
                code=code,
                name=rule.name,
                status=outcome.status,
                reasons=list(outcome.reasons),
                missing_facts=list(outcome.missing),
                missing_labels=[FACT_BY_NAME[f].label for f in outcome.missing],
                receives=code in held,
                open_case=code in cases,
            )
        )
    without = sorted(c for c, i in book.handbook.items() if i.status == "published" and c not in book.items)
    return EligibilityRead(
        resident_id=resident_id,
        evaluated_on=on,
        catalog_revision=snapshot.revision,
        results=results,
        without_rule=without,
    )


async def coming_due(
    session: AsyncSession,
    principal: Principal,
    catalog: CatalogClient,
    *,
    days: int,
    grid: str | None,
    worker: str | None,
    item_code: str | None,
    today: dt.date | None = None,
) -> list[ComingDue]:
    """Residents who will qualify within ``days`` days only because they grow older (turning
    80, reaching pension age): the thresholds come from the rules' age comparisons — of each
    resident's county's handbook."""
    plan = (await books_of(catalog)).plan("county")
    today = today or local_today()
    until = today + dt.timedelta(days=days)
    grids = await grids_for(session, principal, grid, worker)
    found: dict[tuple[uuid.UUID, str], ComingDue] = {}
    for book, part in plan:
        await _coming_due_of(session, principal, book, part, found, today, until, grids, item_code)
    return sorted(found.values(), key=lambda c: (c.due_on, c.compound, c.building, c.unit, c.room, c.item_code))


async def _coming_due_of(
    session: AsyncSession,
    principal: Principal,
    book: RuleBook,
    part: Scope,
    found: dict[tuple[uuid.UUID, str], ComingDue],
    today: dt.date,
    until: dt.date,
    grids: list[str] | None,
    item_code: str | None,
) -> None:
    """:func:`coming_due` of one county's book (its residents only, with several counties)."""
    communities = None if part == "county" else set(part)
    for code, rule in book.items.items():
        if item_code is not None and code != item_code:
            continue
        sql_today = rule.sql(today)
        if sql_today is None:
            continue
        for age in rule.age_thresholds():
            lo, hi = birth_bound(today, age), birth_bound(until, age)
            if lo is None or hi is None:
                continue
            rows = await repo.coming_due_candidates(session, principal, sql_today, code, lo, hi, grids)
            if communities is not None:
                rows = [r for r in rows if r.community in communities]
            if not rows:
                continue
            held = await repo.benefit_codes(session, [r.id for r in rows])
            for r in rows:
                due = birthday(r.birth_date, age)
                if not today < due <= until:
                    continue
                outcome = rule.rule(python_facts(r, held[r.id], due))
                if outcome.value is not True:
                    continue
                key = (r.id, code)
                if key in found and found[key].due_on <= due:
                    continue
                found[key] = ComingDue(
                    resident_id=r.id,
                    resident_name=r.name,
                    compound=r.compound_code,
                    building=r.building,
                    unit=r.unit,
                    room=r.room,
                    grid=r.grid,
                    item_code=code,
                    item_name=rule.name,
                    due_on=due,
                    turns=age,
                    reasons=list(outcome.reasons),
                )


async def needs_survey(
    session: AsyncSession, principal: Principal, catalog: CatalogClient, grid: str | None, worker: str | None
) -> NeedsSurvey:
    grids = await grids_for(session, principal, grid, worker)
    counts = await repo.missing_counts(session, principal, grids, FACT_BITS)
    groups = [
        SurveyGroup(fact=fact, label=FACT_BY_NAME[fact].label, leads=leads, residents=residents, items=items)
        for fact, (leads, residents, items) in counts.items()
    ]
    groups.sort(key=lambda g: (-g.residents, g.fact))
    return NeedsSurvey(groups=groups)


# --- runs ---------------------------------------------------------------------------------------


def sees_every_community(principal: Principal, directory: Directory) -> bool:
    """Whether the caller sees every community of the deployment (a run over ``county`` covers
    them all): a county role of a single-county deployment, or one without a county."""
    visible = principal.visible_communities
    return visible is None or (bool(visible) and all(c.code in visible for c in directory.communities))


def check_scope(principal: Principal, directory: Directory, scope: str) -> None:
    if scope == "county":
        # A ``county`` run covers the whole deployment: with a second county, run per community.
        if not sees_every_community(principal, directory):
            raise Forbidden("Only county roles may run discovery for the whole county.", code="county_scope")
        return
    if directory.community(scope) is None:
        raise Invalid.field("body.scope", "`county` or a community code")
    if not principal.sees_community(scope):
        raise Forbidden("You may run discovery for your own community only.", code="community_scope")


def run_read(run: DiscoveryRun, *, joined: bool = False) -> RunRead:
    return RunRead(
        id=run.id or 0,
        kind=run.kind,
        scope=run.scope,
        status=run.status,
        catalog_revision=run.catalog_revision,
        eval_date=run.eval_date,
        items_total=len(run.items),
        items_done=len(run.items_done),
        fallback_items=list(run.fallback_items),
        eligible=run.eligible,
        unknown=run.unknown,
        started_by=run.started_by,
        started_at=run.started_at,
        heartbeat_at=run.heartbeat_at,
        finished_at=run.finished_at,
        resumed=run.resumed,
        error=run.error,
        joined=joined,
    )


def visible_scopes(principal: Principal, directory: Directory) -> list[str] | None:
    """The run scopes the caller sees (None: every run, ``county`` runs included)."""
    if sees_every_community(principal, directory):
        return None
    visible = principal.visible_communities
    return None if visible is None else sorted(visible)


async def get_run(session: AsyncSession, principal: Principal, directory: Directory, run_id: int) -> DiscoveryRun:
    run = await repo.get_run(session, run_id)
    scopes = visible_scopes(principal, directory)
    if run is None or (scopes is not None and run.scope not in scopes):
        raise NotFound("No such discovery run.", code="run_not_found")
    return run


async def list_runs(
    session: AsyncSession, principal: Principal, directory: Directory, after: int | None, limit: int
) -> list[DiscoveryRun]:
    return list(await repo.list_runs(session, visible_scopes(principal, directory), after, limit))
