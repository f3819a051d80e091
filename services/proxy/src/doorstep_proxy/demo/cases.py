"""Demo cases and visits (idempotent: fixed ids, skipped when already there).

- The generalist window: ``chaoyang.g7.worker`` (invented colleague 翟志刚's profile, grid
  chaoyang-g7) accepts an ``elderly-allowance`` case at the window for a resident of 京都公馆
  (chaoyang-g2); it is routed to the grid-2 team.
- A completed doorstep ``severe-disability-care-subsidy`` case with its full timeline for an
  invented disabled resident (never the story resident at 滨江花园 6-2-502, who must stay a lead).
- A spread of open cases across the demo grids, and today's visits for ``chaoyang.worker``.

The catalogue is another service, so the snapshots here are a built-in copy of the seeded items.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from doorstep_shared.clock import local_today, utcnow

from ..cases import deadlines
from ..cases.models import ProxyCase, ProxyCaseEvent, Visit
from ..ledger import service as ledger
from ..ledger.models import Resident
from ..versions import next_row_versions
from . import repository as repo
from .four_clears import SEED_ACTOR

NAMESPACE = uuid.UUID("6f1d2c9e-0c5a-4d1e-9a57-5ca5e5000001")
WINDOW_WORKER = "chaoyang.g7.worker"

_ID = {"name": "居民身份证复印件", "form": "copy", "notes": "正反面复印在同一页"}
_HUKOU = {"name": "户口簿复印件", "form": "copy", "notes": "首页及本人页"}
_BANK = {"name": "本人银行卡（社保卡）复印件", "form": "copy", "notes": "用于补贴发放"}
_APP = {"name": "申请表", "form": "original", "notes": "窗口领取，或代办员上门时现场填写"}
_AUTH = {"name": "委托书", "form": "original"}
_STEPS = [{"title": "受理", "detail": ""}, {"title": "审核", "detail": ""}, {"title": "发放", "detail": ""}]
SNAPSHOTS: dict[str, dict[str, Any]] = {
    "elderly-allowance": {
        "code": "elderly-allowance",
        "name": "高龄补贴",
        "category": "elderly-livelihood",
        "materials": [_ID, _HUKOU, _BANK, _APP, _AUTH],
        "promised_days": 15,
        "department": "和县民政局",
        "contact": "社区党群服务中心综合窗口",
    },
    "severe-disability-care-subsidy": {
        "code": "severe-disability-care-subsidy",
        "name": "重度残疾人护理补贴",
        "category": "disability",
        "materials": [_ID, _HUKOU, {"name": "残疾人证复印件", "form": "copy"}, _BANK, _APP, _AUTH],
        "promised_days": 20,
        "department": "和县民政局",
        "contact": "社区党群服务中心综合窗口",
    },
    "pension-claim": {
        "code": "pension-claim",
        "name": "到龄领取养老金",
        "category": "employment-social-security",
        "materials": [_ID, {"name": "社会保障卡", "form": "original"}, _BANK, _AUTH],
        "promised_days": 20,
        "department": "和县人力资源和社会保障局",
        "contact": "社区党群服务中心社保窗口",
    },
}
PATHS = {
    "accepted": [],
    "scheduled": ["scheduled"],
    "visited": ["scheduled", "visited"],
    "materials_complete": ["materials_complete"],
    "filed": ["materials_complete", "filed"],
    "approved": ["scheduled", "visited", "materials_complete", "filed", "approved"],
    "closed": ["scheduled", "visited", "materials_complete", "filed", "approved", "closed"],
}


# (grid, item, channel, worker, status, accepted so many days before seeding); the scheduled ones
# get a visit planned for the day of seeding (see seed_todays_visits)
SPREAD = [
    ("chaoyang-g6", "elderly-allowance", "doorstep", "chaoyang.worker", "scheduled", 3),
    ("chaoyang-g6", "pension-claim", "window", "chaoyang.worker", "visited", 6),
    ("chaoyang-g1", "elderly-allowance", "window", "chaoyang.g1.worker", "materials_complete", 4),
    ("chaoyang-g3", "severe-disability-care-subsidy", "doorstep", "chaoyang.g3.worker", "filed", 12),
    ("chaoyang-g4", "elderly-allowance", "platform", "chaoyang.g4.worker", "approved", 25),
    ("chaoyang-g5", "pension-claim", "window", "chaoyang.worker", "accepted", 30),
    ("zhenhuai-g7", "elderly-allowance", "window", "zhenhuai.worker", "scheduled", 2),
    ("zhenhuai-g7", "pension-claim", "doorstep", "zhenhuai.worker", "accepted", 5),
]


def _id(name: str) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, name)


def _snapshot(code: str) -> dict[str, Any]:
    snap = {"version": 1, "steps": _STEPS, "statutory_days": None, **SNAPSHOTS[code]}
    snap["materials"] = [{"count": 1, "notes": "", "collectable_at_home": True, **m} for m in snap["materials"]]
    return snap


async def _pick(session: AsyncSession, *conditions: Any, skip: set[uuid.UUID]) -> Resident | None:
    found = await repo.seeded_residents(session, SEED_ACTOR, *conditions, limit=len(skip) + 1)
    return next((r for r in found if r.id not in skip), None)


def _is_story(r: Resident) -> bool:
    return (r.compound_code, r.building, r.unit, r.room) == ("binjiang", "6", "2", "502")


async def _case(
    session: AsyncSession,
    name: str,
    resident: Resident,
    code: str,
    channel: str,
    actor: str,
    status: str,
    days_ago: int,
    *,
    department_ref: str | None = None,
) -> ProxyCase:
    at = utcnow() - dt.timedelta(days=days_ago, hours=2)
    snap = _snapshot(code)
    due = deadlines.add_working_days(local_today(at), int(snap["promised_days"]))
    case = ProxyCase(
        id=_id(name),
        resident_id=resident.id,
        household_id=resident.household_id,
        community=resident.community,
        grid=resident.grid,
        item_code=code,
        item_name=snap["name"],
        snapshot=snap,
        catalog_revision=0,
        channel=channel,
        accepted_by=actor,
        accepted_at=at,
        assigned_grid=resident.grid,
        due_date=due.date,
        due_basis="promised",
        note="演示数据",
        row_version=await next_row_versions(session),
        created_at=at,
        updated_at=at,
        updated_by=actor,
    )
    events = [
        ProxyCaseEvent(
            case_id=case.id, at=at, actor=actor, kind="transition", to_status="accepted", details={"channel": channel}
        )
    ]
    collected = "materials_complete" in PATHS[status]
    step_at = at
    previous = "accepted"
    for to in PATHS[status]:
        step_at += dt.timedelta(hours=20)
        if to == "filed":
            case.department_ref = department_ref or f"HX-{case.id.hex[:8].upper()}"
            case.filed_at = step_at
        elif to == "approved":
            case.decided_at = step_at
        elif to == "closed":
            case.closed_at = step_at
        events.append(
            ProxyCaseEvent(
                case_id=case.id, at=step_at, actor=actor, kind="transition", from_status=previous, to_status=to
            )
        )
        previous = to
    case.status = status
    case.updated_at = step_at
    await repo.add(session, case)
    await repo.insert_materials(
        session,
        [
            {
                "case_id": case.id,
                "position": i,
                "name": m["name"],
                "form": m["form"],
                "count": 1,
                "collectable_at_home": True,
                "collected": ("copy_taken" if m["form"] == "copy" else "original_seen")
                if collected or i == 1
                else None,
                "collected_by": actor if collected or i == 1 else None,
                "collected_at": at + dt.timedelta(hours=30) if collected or i == 1 else None,
            }
            for i, m in enumerate(snap["materials"], start=1)
        ],
    )
    for e in events:
        await repo.add(session, e)
    return case


async def _visit(
    session: AsyncSession, name: str, case: ProxyCase, resident: Resident, worker: str, day: dt.date, *, done: bool
) -> None:
    now = utcnow()
    visit = Visit(
        id=_id(name),
        community=resident.community,
        grid=resident.grid,
        resident_id=resident.id,
        household_id=resident.household_id,
        compound_code=resident.compound_code,
        building=resident.building,
        unit=resident.unit,
        room=resident.room,
        worker=worker,
        planned_date=day,
        window_start=dt.time(9, 30),
        window_end=dt.time(11, 0),
        status="done" if done else "planned",
        outcome="done" if done else None,
        check_in_at=dt.datetime.combine(day, dt.time(1, 40), tzinfo=dt.UTC) if done else None,
        check_out_at=dt.datetime.combine(day, dt.time(2, 25), tzinfo=dt.UTC) if done else None,
        notes="演示数据",
        row_version=await next_row_versions(session),
        created_at=now,
        created_by=worker,
        updated_at=now,
    )
    await repo.add(session, visit)
    await repo.link_visit(session, visit.id, [case.id])


async def seed_cases(session: AsyncSession) -> None:
    if await repo.case_by_id(session, _id("window-cross-grid")) is None:
        await _seed_cases_once(session)
    await seed_todays_visits(session)


async def seed_todays_visits(session: AsyncSession) -> None:
    """Today's planned visit for every demo case still ``scheduled`` with nothing planned from today.

    Run on every seed (idempotent: one visit id per case and day), so ``/my/day`` of a demo loaded
    on an earlier day still has today's round; a case the user has moved on gets no new visit.
    """
    today = local_today()
    for n in range(len(SPREAD)):
        case = await repo.case_by_id(session, _id(f"spread-{n}"))
        if case is None or case.status != "scheduled":
            continue
        visits = await repo.visits_of_case(session, case.id, date_from=today)
        if visits:
            continue
        resident = (await ledger.residents_by_ids(session, [case.resident_id])).get(case.resident_id)
        if resident is None:
            continue
        await _visit(
            session, f"spread-visit-{n}-{today.isoformat()}", case, resident, case.accepted_by, today, done=False
        )


async def _seed_cases_once(session: AsyncSession) -> None:
    used: set[uuid.UUID] = set()
    used.update(await repo.residents_at(session, "binjiang", "6", "502"))  # the story resident stays a lead
    grid2 = await _pick(session, col(Resident.grid) == "chaoyang-g2", skip=used)
    if grid2 is None:
        return  # no demo residents yet
    used.add(grid2.id)
    await _case(session, "window-cross-grid", grid2, "elderly-allowance", "window", WINDOW_WORKER, "accepted", 1)

    disabled = await _pick(
        session, col(Resident.disability_grade).in_([1, 2]), col(Resident.community) == "chaoyang", skip=used
    )
    if disabled is not None and not _is_story(disabled):
        used.add(disabled.id)
        done = await _case(
            session,
            "disability-completed",
            disabled,
            "severe-disability-care-subsidy",
            "doorstep",
            "chaoyang.worker",
            "closed",
            40,
            department_ref="HX-MZ-2026-0917",
        )
        await _visit(
            session,
            "disability-visit",
            done,
            disabled,
            "chaoyang.worker",
            local_today() - dt.timedelta(days=39),
            done=True,
        )

    for n, (grid, code, channel, actor, status, days) in enumerate(SPREAD):
        resident = await _pick(session, col(Resident.grid) == grid, skip=used)
        if resident is None or _is_story(resident):
            continue
        used.add(resident.id)
        await _case(session, f"spread-{n}", resident, code, channel, actor, status, days)
