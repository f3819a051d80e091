"""Case figures for a period and a community or grid: consultations, doorstep services,
cases accepted / completed / overdue, by item, channel, worker and grid."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from sqlmodel.ext.asyncio.session import AsyncSession

from doorstep_shared.clock import local_today
from doorstep_shared.errors import Invalid
from doorstep_shared.tokens import Principal

from ..service_work import day_after, day_start
from . import repository as repo
from .schemas import CaseFigures


def _tally(table: dict[str, dict[str, int]], key: str, measure: str) -> None:
    row = table.setdefault(key, {"accepted": 0, "completed": 0, "overdue": 0})
    row[measure] = row.get(measure, 0) + 1


async def figures(
    session: AsyncSession,
    principal: Principal,
    *,
    community: str | None,
    grid: str | None,
    period_from: dt.date | None,
    period_to: dt.date | None,
) -> CaseFigures:
    today = local_today()
    start = period_from or today.replace(day=1)
    end = period_to or today
    if end < start:
        raise Invalid.field("query.to", "the period ends before it starts")
    since, until = day_start(start), day_start(day_after(end), "query.to")
    scope = {"community": community, "grid": grid}
    accepted = await repo.cases_accepted_in(session, principal, since=since, until=until, **scope)
    decided = await repo.cases_decided_in(session, principal, since=since, until=until, **scope)
    overdue = await repo.cases_overdue(session, principal, today=today, **scope)
    visits = await repo.visits_done_in(session, principal, date_from=start, date_to=end, **scope)
    demands = await repo.demands_in(session, principal, since=since, until=until, **scope)

    by_item: dict[str, dict[str, int]] = {}
    by_channel: dict[str, dict[str, int]] = {}
    by_worker: dict[str, dict[str, int]] = {}
    by_grid: dict[str, dict[str, int]] = {}
    for measure, rows in (("accepted", accepted), ("completed", decided), ("overdue", overdue)):
        for row in rows:
            item, channel, worker, grid_code = row[0], row[1], row[2], row[3]
            _tally(by_item, item, measure)
            _tally(by_channel, channel, measure)
            _tally(by_worker, worker, measure)
            _tally(by_grid, grid_code, measure)
    services: dict[str, int] = defaultdict(int)
    for worker, grid_code in visits:
        services[worker] += 1
        by_grid.setdefault(grid_code, {"accepted": 0, "completed": 0, "overdue": 0})
        by_grid[grid_code]["doorstep_services"] = by_grid[grid_code].get("doorstep_services", 0) + 1
    for worker, n in services.items():
        by_worker.setdefault(worker, {"accepted": 0, "completed": 0, "overdue": 0})["doorstep_services"] = n
    return CaseFigures(
        community=community,
        grid=grid,
        period_from=start,
        period_to=end,
        consultations=sum(n for _, n in demands),
        consultations_by_channel=dict(sorted(demands)),
        doorstep_services=len(visits),
        cases_accepted=len(accepted),
        cases_completed=len(decided),
        cases_overdue=len(overdue),
        residents_served=len({row[4] for row in accepted}),
        by_item=dict(sorted(by_item.items())),
        by_channel=dict(sorted(by_channel.items())),
        by_worker=dict(sorted(by_worker.items())),
        by_grid=dict(sorted(by_grid.items())),
    )
