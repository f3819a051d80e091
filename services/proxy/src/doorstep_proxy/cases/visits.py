"""Rules for doorstep visits (上门): planning, check-in/out, outcome, "my day" and "my week"."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from doorstep_shared.auth.tokens import Principal
from doorstep_shared.clock import local_today, utcnow
from doorstep_shared.db.driver import HotReader
from doorstep_shared.http import check_if_match, etag_of
from doorstep_shared.http.errors import Conflict, Invalid, NotFound
from doorstep_shared.pii import PiiCipher

from ..ledger import service as ledger
from ..versions import next_row_versions
from ..workers import service as workers
from . import reads
from . import repository as repo
from .models import SyncTombstone, Visit
from .schemas import DayPlan, VisitCaseRead, VisitCheckIn, VisitCheckOut, VisitCreate, VisitRead, VisitUpdate, WeekPlan
from .service import is_open, missing_of, move

CLOCK_SLACK = dt.timedelta(hours=12)  # a phone clock this far in the future is refused


def visit_etag(v: Any) -> str:
    """A ``Visit`` or a row with its id and version."""
    return etag_of("visit", str(v.id), v.version)


async def visit_reads(
    session: AsyncSession, visits: Sequence[Visit], cipher: PiiCipher, principal: Principal | None = None
) -> list[VisitRead]:
    """Visits with the cases they cover; for a machine client, only the covered cases it sees
    (a visit may cover other cases of the household that did not come from it). Residents are
    named as ``principal`` may read them at ``/residents/{id}``."""
    links = await repo.case_ids_of_visits(session, [v.id for v in visits])
    all_case_ids = list(dict.fromkeys(cid for ids in links.values() for cid in ids))
    if principal is not None and principal.sees_only_its_own:
        cases = {c.id: c for c in await repo.cases_by_ids(session, principal, all_case_ids)}
    else:
        cases = await repo.cases_map(session, all_case_ids)
    materials = await repo.materials_of(session, all_case_ids)
    briefs = await ledger.resident_briefs(session, [v.resident_id for v in visits], cipher, principal)
    out = []
    for v in visits:
        covered = [cases[cid] for cid in links.get(v.id, []) if cid in cases]
        out.append(
            VisitRead(
                id=v.id,
                community=v.community,
                grid=v.grid,
                resident=briefs[v.resident_id],
                household_id=v.household_id,
                worker=v.worker,
                planned_date=v.planned_date,
                window_start=v.window_start,
                window_end=v.window_end,
                status=v.status,
                check_in_at=v.check_in_at,
                check_out_at=v.check_out_at,
                outcome=v.outcome,
                come_back_date=v.come_back_date,
                follow_up_date=v.follow_up_date,
                notes=v.notes,
                cases=[
                    VisitCaseRead(
                        id=c.id,
                        item_code=c.item_code,
                        item_name=c.item_name,
                        status=c.status,
                        materials_missing=missing_of(materials.get(c.id, [])),
                    )
                    for c in covered
                ],
                version=v.version,
                row_version=v.row_version,
                created_at=v.created_at,
                updated_at=v.updated_at,
            )
        )
    return out


async def _check_worker(session: AsyncSession, username: str, community: str, field: str) -> None:
    if await workers.community_of(session, username) != community:
        raise Invalid.field(field, "not a worker of the community", code="unknown_worker")


def _check_date(day: dt.date, field: str) -> None:
    if not 2000 <= day.year < 2200:
        raise Invalid.field(field, "date out of range")


async def create_visit(session: AsyncSession, principal: Principal, data: VisitCreate) -> tuple[Visit, bool]:
    """Plan a visit covering cases of one household; covered accepted cases become scheduled."""
    _check_date(data.planned_date, "body.planned_date")
    # Its cases first, then the change number that serialises writers (see create_case): a case's
    # own update locks in that order, and in the other order the two deadlocked on PostgreSQL.
    await repo.lock_cases(session, principal, data.case_ids)
    row_version = await next_row_versions(session)
    if data.id is not None:
        existing = await repo.get_visit(session, None, data.id)
        if existing is not None:
            if principal.sees_community(existing.community):
                linked = (await repo.case_ids_of_visits(session, [existing.id]))[existing.id]
                if set(linked) == set(data.case_ids):
                    return existing, False
            raise Conflict("This visit id is already taken; generate a new UUID.", code="visit_id_taken")
    ids = list(dict.fromkeys(data.case_ids))
    cases = await repo.cases_by_ids(session, principal, ids)
    if len(cases) != len(ids):
        raise Invalid.field("body.case_ids", "unknown case", code="unknown_case")
    cases.sort(key=lambda c: ids.index(c.id))
    first = cases[0]
    for c in cases:
        if c.community != first.community or (c.household_id or c.resident_id) != (
            first.household_id or first.resident_id
        ):
            raise Invalid.field("body.case_ids", "the cases of one visit must be of one household")
        if not is_open(c.status):
            raise Conflict(f"Case {c.id} is {c.status}; it needs no visit.", code="case_closed")
    worker = data.worker or principal.subject
    if worker != principal.subject:
        await _check_worker(session, worker, first.community, "body.worker")
    resident = await ledger.visible_resident(session, principal, first.resident_id)
    if resident is None:  # pragma: no cover - cases keep their resident (FK)
        raise Invalid.field("body.case_ids", "unknown resident")
    now = utcnow()
    visit = Visit(
        id=data.id or uuid.uuid4(),
        community=first.community,
        grid=resident.grid,
        resident_id=resident.id,
        household_id=resident.household_id,
        compound_code=resident.compound_code,
        building=resident.building,
        unit=resident.unit,
        room=resident.room,
        worker=worker,
        planned_date=data.planned_date,
        window_start=data.window_start,
        window_end=data.window_end,
        notes=data.notes,
        row_version=row_version,
        created_at=now,
        created_by=principal.subject,
        updated_at=now,
    )
    await repo.save(session, visit)
    await repo.link_cases(session, visit.id, ids)
    for c in cases:
        if c.status in ("accepted", "visited"):
            locked = await repo.get_case(session, principal, c.id, for_update=True)
            assert locked is not None
            await move(
                session,
                locked,
                "scheduled",
                principal.subject,
                note=f"上门计划 {data.planned_date.isoformat()}",
                details={"visit_id": str(visit.id)},
            )
    return visit, True


async def get_visit(session: AsyncSession, principal: Principal, visit_id: uuid.UUID) -> Visit:
    found = await repo.get_visit(session, principal, visit_id)
    if found is None:
        raise NotFound("No such visit.", code="visit_not_found")
    return found


async def _locked(session: AsyncSession, principal: Principal, visit_id: uuid.UUID, if_match: str | None) -> Visit:
    found = await repo.get_visit(session, principal, visit_id, for_update=True)
    if found is None:
        raise NotFound("No such visit.", code="visit_not_found")
    check_if_match(if_match, visit_etag(found), current_version=found.version)
    return found


async def _bump(session: AsyncSession, visit: Visit) -> None:
    visit.version += 1
    visit.row_version = await next_row_versions(session)
    visit.updated_at = utcnow()
    await repo.save(session, visit)


async def update_visit(
    session: AsyncSession, principal: Principal, visit_id: uuid.UUID, data: VisitUpdate, if_match: str | None
) -> Visit:
    visit = await _locked(session, principal, visit_id, if_match)
    changes = data.model_dump(exclude_unset=True)
    if visit.status != "planned" and set(changes) - {"notes", "follow_up_date"}:
        raise Conflict(f"A {visit.status} visit can only get notes and a follow-up date.", code="visit_started")
    if "planned_date" in changes:
        if data.planned_date is None:
            raise Invalid.field("body.planned_date", "may not be null")
        _check_date(data.planned_date, "body.planned_date")
    if changes.get("worker") is not None and changes["worker"] != visit.worker:
        await _check_worker(session, changes["worker"], visit.community, "body.worker")
    if "worker" in changes and changes["worker"] is None:
        raise Invalid.field("body.worker", "may not be null")
    for key, value in changes.items():
        setattr(visit, key, value)
    if visit.window_start and visit.window_end and visit.window_end <= visit.window_start:
        raise Invalid.field("body.window_end", "must be after window_start")
    await _bump(session, visit)
    return visit


def _phone_time(at: dt.datetime | None, field: str) -> dt.datetime:
    now = utcnow()
    if at is None:
        return now
    if at > now + CLOCK_SLACK or at < now - dt.timedelta(days=30):
        raise Invalid.field(field, "the phone's clock is too far from the server's")
    return at.astimezone(dt.UTC)


async def check_in(
    session: AsyncSession, principal: Principal, visit_id: uuid.UUID, data: VisitCheckIn, if_match: str | None
) -> Visit:
    visit = await _locked(session, principal, visit_id, if_match)
    if visit.status != "planned":
        raise Conflict(f"A {visit.status} visit cannot check in.", code="illegal_transition", allowed_next=[])
    visit.check_in_at = _phone_time(data.at, "body.at")
    visit.status = "checked_in"
    await _bump(session, visit)
    return visit


async def check_out(
    session: AsyncSession, principal: Principal, visit_id: uuid.UUID, data: VisitCheckOut, if_match: str | None
) -> Visit:
    """Record the outcome; a visit done moves its scheduled cases to visited."""
    visit = await _locked(session, principal, visit_id, if_match)
    if visit.status not in ("planned", "checked_in"):
        raise Conflict(f"A {visit.status} visit already has its outcome.", code="illegal_transition", allowed_next=[])
    if data.outcome == "come_back":
        if data.come_back_date is None:
            raise Invalid.field("body.come_back_date", "required when the outcome is come_back")
        _check_date(data.come_back_date, "body.come_back_date")
    at = _phone_time(data.at, "body.at")
    if visit.check_in_at and at < visit.check_in_at:
        raise Invalid.field("body.at", "check-out before check-in")
    visit.check_out_at = at
    visit.outcome = data.outcome
    visit.status = data.outcome
    visit.come_back_date = data.come_back_date if data.outcome == "come_back" else None
    visit.follow_up_date = data.follow_up_date or visit.come_back_date
    if data.notes is not None:
        visit.notes = data.notes
    # The cases are locked before the change counter is taken (in _bump): a case's own updates
    # lock the case, then take the counter; in the other order the two deadlock (PostgreSQL).
    scheduled = []
    if data.outcome == "done":
        for case_id in (await repo.case_ids_of_visits(session, [visit.id]))[visit.id]:
            case = await repo.get_case(session, principal, case_id, for_update=True)
            if case is not None and case.status == "scheduled":
                scheduled.append(case)
    await _bump(session, visit)
    for case in scheduled:
        await move(session, case, "visited", principal.subject, details={"visit_id": str(visit.id)})
    return visit


async def delete_visit(session: AsyncSession, principal: Principal, visit_id: uuid.UUID, if_match: str | None) -> None:
    """Drop a planned visit (a tombstone tells the phones)."""
    visit = await _locked(session, principal, visit_id, if_match)
    if visit.status != "planned":
        raise Conflict(f"A {visit.status} visit is on record and cannot be deleted.", code="visit_started")
    await repo.delete_visit(session, visit)
    await repo.add_tombstone(
        session,
        SyncTombstone(
            entity="visit",
            entity_id=str(visit.id),
            community=visit.community,
            row_version=await next_row_versions(session),
            deleted_at=utcnow(),
        ),
    )


def _day_of(principal: Principal, day: dt.date | None, worker: str | None) -> tuple[dt.date, str]:
    """The day asked for (default today, checked) and whose (default the caller)."""
    day = day or local_today()
    _check_date(day, "query.date")
    return day, worker or principal.subject


async def day_plan(
    session: AsyncSession, principal: Principal, cipher: PiiCipher, *, day: dt.date | None, worker: str | None
) -> DayPlan:
    """ "My day" through the models (the reference for ``day_plan_item``)."""
    day, who = _day_of(principal, day, worker)
    visits = await repo.list_visits(session, principal, worker=who, date_from=day, date_to=day)
    return DayPlan(date=day, worker=who, visits=await visit_reads(session, visits, cipher, principal))


async def day_plan_item(
    conn: HotReader, principal: Principal, cipher: PiiCipher, *, day: dt.date | None, worker: str | None
) -> dict[str, Any]:
    """ "My day" as a plain dict in ``DayPlan``'s shape (the lean path, ``reads.py``)."""
    day, who = _day_of(principal, day, worker)
    return await reads.day_plan_item(conn, principal, cipher, day, who)


async def visit_item(session: AsyncSession, principal: Principal, cipher: PiiCipher, visit: Any) -> dict[str, Any]:
    """One visit (a row of ``repo.VISIT_COLUMNS``) as a plain dict in ``VisitRead``'s shape."""
    return (await reads.visit_items(session, [visit], cipher, principal))[0]


async def visit_row(session: AsyncSession, principal: Principal, visit_id: uuid.UUID) -> Any:
    """The visit as a row of ``repo.VISIT_COLUMNS``; 404 when the caller does not see it."""
    found = await repo.visit_row(session, principal, visit_id)
    if found is None:
        raise NotFound("No such visit.", code="visit_not_found")
    return found


async def week_plan_item(
    conn: HotReader, principal: Principal, cipher: PiiCipher, *, day: dt.date | None, worker: str | None
) -> dict[str, Any]:
    """ "My week" as a plain dict in ``WeekPlan``'s shape (the lean path, ``reads.py``)."""
    day, who = _day_of(principal, day, worker)
    return await reads.week_plan_item(conn, principal, cipher, day - dt.timedelta(days=day.weekday()), who)


async def week_plan(
    session: AsyncSession, principal: Principal, cipher: PiiCipher, *, day: dt.date | None, worker: str | None
) -> WeekPlan:
    """ "My week" through the models (the reference for ``week_plan_item``)."""
    day, who = _day_of(principal, day, worker)
    start = day - dt.timedelta(days=day.weekday())
    visits = await repo.list_visits(
        session, principal, worker=who, date_from=start, date_to=start + dt.timedelta(days=6)
    )
    reads = await visit_reads(session, visits, cipher, principal)
    days = [
        DayPlan(
            date=start + dt.timedelta(days=i),
            worker=who,
            visits=[r for r in reads if r.planned_date == start + dt.timedelta(days=i)],
        )
        for i in range(7)
    ]
    return WeekPlan(worker=who, start=start, days=days)
