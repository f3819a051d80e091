"""Rules for workers (代办人员), demands (群众诉求) and figures."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

import doorstep_shared.org as org
from doorstep_shared.clock import SHANGHAI, local_today, utcnow
from doorstep_shared.errors import Conflict, Invalid, NotFound
from doorstep_shared.http import etag_of
from doorstep_shared.observability import redact
from doorstep_shared.pii import PiiCipher, mask_phone
from doorstep_shared.tokens import Principal

from . import repository_work as work_repo
from .demands.models import Demand
from .events import webhooks
from .ledger import repository as repo
from .ledger.idnumbers import check_phone
from .schemas_work import (
    DemandAnswer,
    DemandClose,
    DemandConvert,
    DemandCreate,
    DemandFigures,
    DemandRead,
    Figures,
    GridFigures,
    GridTeam,
    LedgerFigures,
    WorkerRead,
    WorkerUpsert,
)
from .versions import check_if_match, next_row_versions
from .workers.models import WorkerProfile

DEMAND_PHONE_CTX = "demand.contact_phone"

# --- workers --------------------------------------------------------------------------


def worker_etag(w: WorkerProfile) -> str:
    return etag_of("worker", w.username, w.version)


async def worker_reads(session: AsyncSession, workers: Sequence[WorkerProfile]) -> list[WorkerRead]:
    grids = await work_repo.grids_of(session, [w.username for w in workers])
    return [
        WorkerRead(
            username=w.username,
            display_name=w.display_name,
            community=w.community,
            grids=grids.get(w.username, []),
            categories=list(w.categories or []),
            status=w.status,
            version=w.version,
            updated_at=w.updated_at,
        )
        for w in workers
    ]


async def workers(
    session: AsyncSession,
    principal: Principal,
    *,
    community: str | None,
    grid: str | None,
    status: str | None,
    after: str | None,
    limit: int,
) -> Sequence[WorkerProfile]:
    return await work_repo.list_workers(
        session,
        principal,
        community=community,
        grid=grid,
        status=status,
        after=after,
        limit=limit,
    )


async def worker(session: AsyncSession, principal: Principal, username: str) -> WorkerProfile:
    found = await work_repo.get_worker(session, principal, username)
    if found is None:
        raise NotFound("No such worker profile.", code="worker_not_found")
    return found


async def upsert_worker(
    session: AsyncSession,
    principal: Principal,
    username: str,
    data: WorkerUpsert,
    if_match: str | None,
) -> tuple[WorkerProfile, bool]:
    """Create or replace a worker's field profile; returns (profile, created)."""
    community = data.community or principal.community
    if not community or community not in org.COMMUNITY_BY_CODE:
        raise Invalid.field("body.community", "unknown community")
    if not principal.sees_community(community):
        raise Invalid.field("body.community", "outside your communities")
    for grid in data.grids:
        info = org.GRID_BY_CODE.get(grid)
        if info is None or info.community != community:
            raise Invalid.field("body.grids", "a grid is not one of the community's grids")
    found = await work_repo.get_worker(session, None, username, for_update=True)
    if found is not None and not principal.sees_community(found.community):
        raise Conflict("This username has a profile in another community.", code="worker_elsewhere")
    created = found is None
    now = utcnow()
    if found is None:
        found = WorkerProfile(username=username, display_name=data.display_name, community=community, updated_at=now)
    else:
        check_if_match(if_match, worker_etag(found), found.version)
        found.version += 1
    found.display_name = data.display_name
    found.community = community
    found.status = data.status
    found.categories = sorted(set(data.categories))
    found.updated_at = now
    found.row_version = await next_row_versions(session)
    await work_repo.save(session, found)
    await work_repo.set_grids(session, username, sorted(set(data.grids)))
    return found, created


async def grid_team(session: AsyncSession, principal: Principal, grid: str) -> GridTeam:
    info = org.GRID_BY_CODE.get(grid)
    if info is None or not principal.sees_community(info.community):
        raise NotFound("No such grid.", code="grid_not_found")
    rows = await work_repo.list_workers(
        session, principal, community=None, grid=grid, status=None, after=None, limit=500
    )
    return GridTeam(grid=grid, community=info.community, workers=await worker_reads(session, rows))


# --- demands --------------------------------------------------------------------------


def demand_etag(d: Demand) -> str:
    return etag_of("demand", str(d.id), d.version)


def demand_read(d: Demand, cipher: PiiCipher) -> DemandRead:
    phone = cipher.decrypt(d.contact_phone_enc, context=DEMAND_PHONE_CTX) if d.contact_phone_enc else None
    return DemandRead(
        id=d.id,
        community=d.community,
        grid=d.grid,
        resident_id=d.resident_id,
        channel=d.channel,
        kind=d.kind,
        item_code=d.item_code,
        text=d.text,
        contact_name=d.contact_name,
        contact_phone_masked=mask_phone(phone),
        status=d.status,
        answer=d.answer,
        answered_at=d.answered_at,
        answered_by=d.answered_by,
        case_ref=d.case_ref,
        logged_by=d.logged_by,
        source_client=d.source_client,
        external_ref=d.external_ref,
        version=d.version,
        created_at=d.created_at,
        updated_at=d.updated_at,
    )


def _demand_community(principal: Principal, wanted: str | None) -> str:
    if wanted is None:
        if principal.kind == "user" and principal.community:
            return principal.community
        visible = principal.visible_communities
        if visible is not None and len(visible) == 1:
            return next(iter(visible))
        raise Invalid.field("body.community", "required (which community the demand is for)")
    if wanted not in org.COMMUNITY_BY_CODE or not principal.sees_community(wanted):
        raise Invalid.field("body.community", "unknown community")
    return wanted


async def create_demand(session: AsyncSession, principal: Principal, cipher: PiiCipher, data: DemandCreate) -> Demand:
    community = _demand_community(principal, data.community)
    grid = data.grid
    if grid is not None:
        info = org.GRID_BY_CODE.get(grid)
        if info is None or info.community != community:
            raise Invalid.field("body.grid", "not a grid of the community")
    if data.resident_id is not None:
        resident = await repo.get_resident(session, principal, data.resident_id)
        if resident is None or resident.community != community:
            raise Invalid.field("body.resident_id", "unknown resident")
        grid = grid or resident.grid
    phone = check_phone(data.contact_phone, field="body.contact_phone") if data.contact_phone else None
    now = utcnow()
    demand = Demand(
        community=community,
        grid=grid,
        resident_id=data.resident_id,
        channel=data.channel,
        kind=data.kind,
        item_code=data.item_code,
        # Free text is where people type phone and ID numbers: they are masked before storage.
        text=redact(data.text),
        contact_name=data.contact_name or None,
        contact_phone_enc=cipher.encrypt(phone, context=DEMAND_PHONE_CTX) if phone else None,
        logged_by=principal.subject,
        source_client=principal.subject if principal.kind == "client" else None,
        external_ref=data.external_ref,
        row_version=await next_row_versions(session),
        created_at=now,
        updated_at=now,
    )
    if data.answer:
        demand.status = "answered"
        demand.answer = redact(data.answer)
        demand.answered_at = now
        demand.answered_by = principal.subject
    await work_repo.save(session, demand)
    await webhooks.demand_created(session, demand)
    return demand


async def demand(session: AsyncSession, principal: Principal, demand_id: uuid.UUID) -> Demand:
    found = await work_repo.get_demand(session, principal, demand_id)
    if found is None:
        raise NotFound("No such demand.", code="demand_not_found")
    return found


async def demands(session: AsyncSession, principal: Principal, **filters: Any) -> Sequence[Demand]:
    return await work_repo.list_demands(session, principal, **filters)


TRANSITIONS = {
    "answer": ({"open", "answered"}, "answered"),
    "convert": ({"open", "answered"}, "converted"),
    "close": ({"open", "answered", "converted"}, "closed"),
}


async def transition_demand(
    session: AsyncSession,
    principal: Principal,
    demand_id: uuid.UUID,
    action: str,
    data: DemandAnswer | DemandConvert | DemandClose,
    if_match: str | None,
) -> Demand:
    found = await work_repo.get_demand(session, principal, demand_id, for_update=True)
    if found is None:
        raise NotFound("No such demand.", code="demand_not_found")
    check_if_match(if_match, demand_etag(found), found.version)
    allowed_from, target = TRANSITIONS[action]
    if found.status not in allowed_from:
        raise Conflict(
            f"A {found.status} demand cannot be moved to {target}.",
            code="illegal_transition",
            allowed=sorted(a for a, (src, _) in TRANSITIONS.items() if found.status in src),
        )
    now = utcnow()
    if isinstance(data, DemandAnswer):
        found.answer = redact(data.answer)
        found.answered_at = now
        found.answered_by = principal.subject
    elif isinstance(data, DemandConvert):
        await _link_case(session, principal, found, data.case_ref)
        found.case_ref = data.case_ref
    found.status = target
    found.version += 1
    found.row_version = await next_row_versions(session)
    found.updated_at = now
    await work_repo.save(session, found)
    if target == "answered":
        await webhooks.demand_answered(session, found)
    return found


async def _link_case(session: AsyncSession, principal: Principal, demand: Demand, case_ref: str) -> None:
    """The case a demand converts into must exist (cases of the same community); it gets the link."""
    from .cases import repository as cases_repo

    try:
        case_id = uuid.UUID(case_ref)
    except ValueError:
        raise Invalid.field("body.case_ref", "not a case id (create the case first)", code="unknown_case") from None
    case = await cases_repo.get_case(session, principal, case_id, for_update=True)
    if case is None or case.community != demand.community:
        raise Invalid.field("body.case_ref", "unknown case", code="unknown_case")
    if case.demand_id is None:
        case.demand_id = demand.id
        case.version += 1
        case.row_version = await next_row_versions(session)
        case.updated_at = utcnow()
        case.updated_by = principal.subject
        await work_repo.save(session, case)


# --- figures --------------------------------------------------------------------------


def day_after(day: dt.date) -> dt.date:
    return day if day == dt.date.max else day + dt.timedelta(days=1)


def day_start(day: dt.date, field: str = "query.from") -> dt.datetime:
    """Midnight in Shanghai of ``day`` as a UTC instant (422 for days outside 1900–2199)."""
    if not 1900 <= day.year < 2200:
        raise Invalid.field(field, "date out of range")
    return dt.datetime.combine(day, dt.time(), tzinfo=SHANGHAI).astimezone(dt.UTC)


async def figures(
    session: AsyncSession,
    principal: Principal,
    *,
    community: str | None,
    grid: str | None,
    period_from: dt.date | None,
    period_to: dt.date | None,
) -> Figures:
    today = local_today()
    start = period_from or today.replace(day=1)
    end = period_to or today
    if end < start:
        raise Invalid.field("query.to", "the period ends before it starts")
    by_grid = await repo.ledger_counts_by_grid(session, principal, community=community, grid=grid, today=today)
    grids = [GridFigures(community=c, grid=g, **vals) for (c, g), vals in sorted(by_grid.items())]
    total = LedgerFigures()
    for g in grids:
        for name in LedgerFigures.model_fields:
            setattr(total, name, getattr(total, name) + getattr(g, name))
    counts = await work_repo.demand_counts(
        session,
        principal,
        community=community,
        grid=grid,
        since=day_start(start),
        until=day_start(day_after(end), "query.to"),
    )
    by_channel: dict[str, int] = {}
    by_status: dict[str, int] = {}
    for channel, status, n in counts:
        by_channel[channel] = by_channel.get(channel, 0) + n
        by_status[status] = by_status.get(status, 0) + n
    return Figures(
        community=community,
        grid=grid,
        period_from=start,
        period_to=end,
        ledger=total,
        by_grid=grids,
        demands=DemandFigures(total=sum(by_channel.values()), by_channel=by_channel, by_status=by_status),
    )
