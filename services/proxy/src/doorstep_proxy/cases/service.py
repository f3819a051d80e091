"""Rules for proxy cases (代办件) once accepted: how they read, the status machine, assignment,
deadline overrides, the materials checklist. No FastAPI here and no commit. Intake (a case
accepted with its catalogue snapshot) is ``intake.py``.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from doorstep_shared.auth.permissions import Role
from doorstep_shared.auth.tokens import Principal
from doorstep_shared.clock import local_today, utcnow
from doorstep_shared.db.driver import HotReader
from doorstep_shared.directory import Directory
from doorstep_shared.http import check_if_match, etag_of
from doorstep_shared.http.errors import Conflict, Forbidden, Invalid, NotFound
from doorstep_shared.pii import PiiCipher

from ..events import webhooks
from ..ledger import service as ledger
from ..ledger.schemas import ResidentBrief
from ..versions import next_row_versions
from ..workers import service as workers
from . import case_rows, deadlines
from . import repository as repo
from .models import CLOSED_STATUSES, ProxyCase, ProxyCaseEvent, ProxyCaseMaterial, SyncTombstone
from .schemas import (
    CaseAssign,
    CaseDueOverride,
    CaseEventRead,
    CaseQuery,
    CaseRead,
    CaseTransition,
    ItemSnapshot,
    MaterialMark,
    MaterialRead,
)

# The status machine. Window cases may go straight from accepted to materials_complete (the
# materials were handed over at the window); doorstep cases pass through scheduled/visited.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "accepted": ("scheduled", "materials_complete", "withdrawn"),
    "scheduled": ("visited", "withdrawn"),
    "visited": ("scheduled", "materials_complete", "withdrawn"),
    "materials_complete": ("filed", "withdrawn"),
    "filed": ("approved", "rejected", "withdrawn"),
    "approved": ("closed",),
    "rejected": ("closed",),
    "closed": (),
    "withdrawn": (),
}
ADMIN_ROLES = frozenset({Role.COMMUNITY_ADMIN.value, Role.COUNTY_ADMIN.value})


def is_open(status: str) -> bool:
    return status not in CLOSED_STATUSES


def case_etag(c: Any) -> str:
    """A ``ProxyCase`` or a row with its id and version."""
    return etag_of("case", str(c.id), c.version)


def missing_of(materials: Sequence[ProxyCaseMaterial]) -> list[str]:
    return [m.name for m in materials if m.collected is None]


def material_read(m: ProxyCaseMaterial) -> MaterialRead:
    return MaterialRead(
        position=m.position,
        name=m.name,
        form=m.form,
        count=m.count,
        collectable_at_home=m.collectable_at_home,
        collected=m.collected,
        collected_by=m.collected_by,
        collected_at=m.collected_at,
    )


def case_read(
    c: ProxyCase,
    materials: Sequence[ProxyCaseMaterial],
    today: dt.date,
    resident: ResidentBrief | None = None,
) -> CaseRead:
    overdue, soon = deadlines.flags(c.due_date, today, is_open(c.status))
    return CaseRead(
        id=c.id,
        resident_id=c.resident_id,
        resident=resident,
        household_id=c.household_id,
        community=c.community,
        grid=c.grid,
        item_code=c.item_code,
        item_name=c.item_name,
        snapshot=ItemSnapshot.model_validate(c.snapshot),
        catalog_revision=c.catalog_revision,
        channel=c.channel,
        demand_id=c.demand_id,
        status=c.status,
        allowed_next=list(TRANSITIONS.get(c.status, ())),
        accepted_by=c.accepted_by,
        accepted_at=c.accepted_at,
        assigned_grid=c.assigned_grid,
        assigned_to=c.assigned_to,
        department_ref=c.department_ref,
        filed_at=c.filed_at,
        decided_at=c.decided_at,
        closed_at=c.closed_at,
        due_date=c.due_date,
        due_basis=c.due_basis,
        due_override_reason=c.due_override_reason,
        overdue=overdue,
        due_soon=soon,
        materials=[material_read(m) for m in materials],
        materials_complete=not missing_of(materials),
        materials_missing=missing_of(materials),
        note=c.note,
        version=c.version,
        row_version=c.row_version,
        created_at=c.created_at,
        updated_at=c.updated_at,
    )


async def case_reads(
    session: AsyncSession,
    cases: Sequence[ProxyCase],
    cipher: PiiCipher | None = None,
    principal: Principal | None = None,
) -> list[CaseRead]:
    materials = await repo.materials_of(session, [c.id for c in cases])
    briefs: dict[uuid.UUID, ResidentBrief] = {}
    if cipher is not None:
        briefs = await ledger.resident_briefs(session, [c.resident_id for c in cases], cipher, principal)
    today = local_today()
    return [case_read(c, materials.get(c.id, []), today, briefs.get(c.resident_id)) for c in cases]


# --- reading --------------------------------------------------------------------------


async def get_case(session: AsyncSession, principal: Principal, case_id: uuid.UUID) -> ProxyCase:
    found = await repo.get_case(session, principal, case_id)
    if found is None:
        raise NotFound("No such case.", code="case_not_found")
    return found


async def case_row(session: AsyncSession, principal: Principal, case_id: uuid.UUID) -> Any:
    """The case as a row of ``repo.CASE_COLUMNS`` (what ``reads.case_items`` takes); 404 when the
    caller does not see it."""
    found = await repo.case_row(session, principal, case_id)
    if found is None:
        raise NotFound("No such case.", code="case_not_found")
    return found


async def _locked(session: AsyncSession, principal: Principal, case_id: uuid.UUID, if_match: str | None) -> ProxyCase:
    found = await repo.get_case(session, principal, case_id, for_update=True)
    if found is None:
        raise NotFound("No such case.", code="case_not_found")
    check_if_match(if_match, case_etag(found), current_version=found.version)
    return found


async def timeline(session: AsyncSession, principal: Principal, case_id: uuid.UUID) -> list[CaseEventRead]:
    await get_case(session, principal, case_id)
    return [
        CaseEventRead(
            id=e.id or 0,
            at=e.at,
            actor=e.actor,
            kind=e.kind,
            from_status=e.from_status,
            to_status=e.to_status,
            note=e.note,
            details=dict(e.details or {}),
        )
        for e in await repo.events_of(session, case_id)
    ]


async def list_cases(
    conn: HotReader,
    principal: Principal,
    query: CaseQuery,
    *,
    overdue: bool,
    due_soon: bool,
    after: Sequence[Any] | None,
    limit: int,
) -> Sequence[Any]:
    """A page of cases as rows of ``repo.CASE_COLUMNS`` and their residents' ``RESIDENT_BRIEF``
    (what ``reads.case_items`` takes)."""
    today = local_today()
    if overdue:
        query.due_before = today
    if due_soon:
        query.due_from = today
        query.due_until = deadlines.due_soon_horizon(today)
    return await case_rows.case_page(conn, principal, query, after=after, limit=limit)


# --- changes --------------------------------------------------------------------------


async def record_event(
    session: AsyncSession,
    case: ProxyCase,
    kind: str,
    actor: str,
    at: dt.datetime,
    *,
    from_status: str | None = None,
    to_status: str | None = None,
    note: str | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    """Stamp the case's timeline (kind: transition, assignment, deadline or material)."""
    await repo.add_event(
        session,
        ProxyCaseEvent(
            case_id=case.id,
            at=at,
            actor=actor,
            kind=kind,
            from_status=from_status,
            to_status=to_status,
            note=note,
            details=details if details is not None else {},
        ),
    )


async def _bump(session: AsyncSession, case: ProxyCase, actor: str, now: dt.datetime) -> None:
    case.version += 1
    case.row_version = await next_row_versions(session)
    case.updated_at = now
    case.updated_by = actor


async def transition(
    session: AsyncSession,
    principal: Principal,
    case_id: uuid.UUID,
    data: CaseTransition,
    if_match: str | None,
) -> ProxyCase:
    case = await _locked(session, principal, case_id, if_match)
    await move(session, case, data.to, principal.subject, note=data.note, department_ref=data.department_ref)
    return case


async def move(
    session: AsyncSession,
    case: ProxyCase,
    to: str,
    actor: str,
    *,
    note: str | None = None,
    department_ref: str | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    """Apply one checked transition to a loaded (locked) case and stamp it on the timeline."""
    allowed = TRANSITIONS.get(case.status, ())
    if to not in allowed:
        raise Conflict(
            f"A case that is {case.status} cannot become {to}.",
            code="illegal_transition",
            status_now=case.status,
            allowed_next=list(allowed),
        )
    if to == "materials_complete":
        missing = missing_of((await repo.materials_of(session, [case.id]))[case.id])
        if missing:
            raise Conflict(
                "Materials are still missing; tick every one before marking the case complete.",
                code="materials_missing",
                missing=missing,
            )
    if to == "filed" and not department_ref:
        raise Invalid.field("body.department_ref", "required when filing (the department's reference)")
    now = utcnow()
    previous = case.status
    if to == "filed":
        case.department_ref = department_ref
        case.filed_at = now
    elif to in ("approved", "rejected"):
        case.decided_at = now
    elif to in ("closed", "withdrawn"):
        case.closed_at = now
    case.status = to
    await _bump(session, case, actor, now)
    await repo.save(session, case)
    extra = dict(details or {})
    if department_ref and to == "filed":
        extra["department_ref"] = department_ref
    await record_event(
        session, case, "transition", actor, now, from_status=previous, to_status=to, note=note, details=extra
    )
    await webhooks.case_moved(session, case, previous, to, now)


async def assign(
    session: AsyncSession,
    principal: Principal,
    directory: Directory,
    case_id: uuid.UUID,
    data: CaseAssign,
    if_match: str | None,
) -> ProxyCase:
    case = await _locked(session, principal, case_id, if_match)
    if not is_open(case.status):
        raise Conflict(f"A {case.status} case cannot be reassigned.", code="case_closed")
    grid = data.assigned_grid or case.grid
    info = directory.grid(grid)
    if info is None or info.community != case.community:
        raise Invalid.field("body.assigned_grid", "not a grid of the case's community")
    if data.assigned_to is not None:
        community = await workers.community_of(session, data.assigned_to)
        if community != case.community:
            raise Invalid.field("body.assigned_to", "not a worker of the case's community", code="unknown_worker")
    now = utcnow()
    before = {"assigned_grid": case.assigned_grid, "assigned_to": case.assigned_to}
    grid_before = case.assigned_grid or case.grid
    case.assigned_grid = grid
    case.assigned_to = data.assigned_to
    await _bump(session, case, principal.subject, now)
    await repo.save(session, case)
    await _left_scopes(session, case, grid_before, before["assigned_to"], now)
    await record_event(
        session,
        case,
        "assignment",
        principal.subject,
        now,
        note=data.reason,
        details={"from": before, "to": {"assigned_grid": grid, "assigned_to": data.assigned_to}},
    )
    return case


async def _left_scopes(
    session: AsyncSession, case: ProxyCase, grid_before: str, worker_before: str | None, now: dt.datetime
) -> None:
    """A reassigned case leaves the sync scope of its old grid and old worker (with its resident,
    for the worker): tombstones tagged with them; the feed keeps whatever is still theirs."""
    left_grid = grid_before if grid_before != (case.assigned_grid or case.grid) else None
    left_worker = worker_before if worker_before and worker_before != case.assigned_to else None
    stones = []
    if left_grid or left_worker:
        stones.append(("case", str(case.id), left_grid, left_worker))
    if left_worker:
        stones.append(("resident", str(case.resident_id), None, left_worker))
    for entity, entity_id, grid, worker in stones:
        await repo.add_tombstone(
            session,
            SyncTombstone(
                entity=entity,
                entity_id=entity_id,
                community=case.community,
                grid=grid,
                worker=worker,
                row_version=case.row_version,
                deleted_at=now,
            ),
        )


async def override_due(
    session: AsyncSession, principal: Principal, case_id: uuid.UUID, data: CaseDueOverride, if_match: str | None
) -> ProxyCase:
    if not (principal.roles & ADMIN_ROLES):
        raise Forbidden("Only community or county admins may change a due date.", code="admin_only")
    case = await _locked(session, principal, case_id, if_match)
    if not is_open(case.status):
        raise Conflict(f"A {case.status} case has no deadline to change.", code="case_closed")
    if not 2000 <= data.due_date.year < 2200:
        raise Invalid.field("body.due_date", "date out of range")
    now = utcnow()
    before = case.due_date.isoformat() if case.due_date else None
    case.due_date = data.due_date
    case.due_basis = "override"
    case.due_override_reason = data.reason
    await _bump(session, case, principal.subject, now)
    await repo.save(session, case)
    await record_event(
        session,
        case,
        "deadline",
        principal.subject,
        now,
        note=data.reason,
        details={"from": before, "to": data.due_date.isoformat()},
    )
    return case


MATERIAL_STAGES = ("accepted", "scheduled", "visited")


def _needs_evidence(case: ProxyCase, position: int) -> bool:
    """Whether the catalogue (as snapshotted at intake) asks for a file before the tick."""
    materials = ItemSnapshot.model_validate(case.snapshot).materials
    return 1 <= position <= len(materials) and materials[position - 1].evidence == "photo"


async def ticked_with_evidence(session: AsyncSession, case: ProxyCase, position: int) -> bool:
    """Whether the material is ticked collected and its tick rests on a file (``evidence: photo``)."""
    if not _needs_evidence(case, position):
        return False
    material = await repo.get_material(session, case.id, position)
    return material is not None and material.collected is not None


async def mark_material(
    session: AsyncSession,
    principal: Principal,
    case_id: uuid.UUID,
    position: int,
    data: MaterialMark,
    if_match: str | None,
) -> ProxyCase:
    case = await _locked(session, principal, case_id, if_match)
    if case.status not in MATERIAL_STAGES:
        raise Conflict(
            f"Materials of a {case.status} case can no longer change.",
            code="materials_locked",
            status_now=case.status,
        )
    material = await repo.get_material(session, case.id, position)
    if material is None:
        raise NotFound("No such material on this case.", code="material_not_found")
    if data.collected and _needs_evidence(case, position) and not await repo.has_ready_file(session, case.id, position):
        raise Conflict(
            "This material needs a photo or scan: upload it before ticking the material.",
            code="material_evidence_missing",
            position=position,
        )
    now = utcnow()
    material.collected = data.collected
    material.collected_by = principal.subject if data.collected else None
    material.collected_at = now if data.collected else None
    await _bump(session, case, principal.subject, now)
    await repo.save(session, material, case)
    await record_event(
        session,
        case,
        "material",
        principal.subject,
        now,
        details={"position": position, "name": material.name, "collected": data.collected},
    )
    return case
