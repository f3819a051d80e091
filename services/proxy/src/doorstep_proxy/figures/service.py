"""The figures a community reads: the ledger (compounds, households, residents, special groups)
and demands per grid, and for a period the cases: consultations, doorstep services, cases
accepted / completed / overdue, by item, channel, worker and grid."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from sqlmodel.ext.asyncio.session import AsyncSession

from doorstep_shared.auth.tokens import Principal
from doorstep_shared.clock import local_today
from doorstep_shared.periods import Period, report_period

from ..inputs import YEARS
from . import repository as repo
from .schemas import CaseFigures, DemandFigures, Figures, FiguresScope, GridFigures, LedgerFigures


def _period(scope: FiguresScope) -> tuple[dt.date, Period]:
    """Today (Asia/Shanghai) and the period asked for (default: this month)."""
    today = local_today()
    return today, report_period(scope.period_from, scope.period_to, today=today, years=YEARS)


async def figures(session: AsyncSession, principal: Principal, scope: FiguresScope) -> Figures:
    today, days = _period(scope)
    community, grid = scope.community, scope.grid
    by_grid = await repo.ledger_counts_by_grid(session, principal, community=community, grid=grid, today=today)
    grids = [GridFigures(community=c, grid=g, **vals) for (c, g), vals in sorted(by_grid.items())]
    total = LedgerFigures()
    for g in grids:
        for name in LedgerFigures.model_fields:
            setattr(total, name, getattr(total, name) + getattr(g, name))
    counts = await repo.demand_counts(
        session, principal, community=community, grid=grid, since=days.since, until=days.until
    )
    by_channel: dict[str, int] = {}
    by_status: dict[str, int] = {}
    for channel, status, n in counts:
        by_channel[channel] = by_channel.get(channel, 0) + n
        by_status[status] = by_status.get(status, 0) + n
    return Figures(
        community=community,
        grid=grid,
        period_from=days.start,
        period_to=days.end,
        ledger=total,
        by_grid=grids,
        demands=DemandFigures(total=sum(by_channel.values()), by_channel=by_channel, by_status=by_status),
    )


def _tally(table: dict[str, dict[str, int]], key: str, measure: str) -> None:
    row = table.setdefault(key, {"accepted": 0, "completed": 0, "overdue": 0})
    row[measure] = row.get(measure, 0) + 1


async def case_figures(session: AsyncSession, principal: Principal, scope: FiguresScope) -> CaseFigures:
    today, days = _period(scope)
    since, until = days.since, days.until
    where = {"community": scope.community, "grid": scope.grid}
    accepted = await repo.cases_accepted_in(session, principal, since=since, until=until, **where)
    decided = await repo.cases_decided_in(session, principal, since=since, until=until, **where)
    overdue = await repo.cases_overdue(session, principal, today=today, **where)
    visits = await repo.visits_done_in(session, principal, date_from=days.start, date_to=days.end, **where)
    demands = await repo.demands_in(session, principal, since=since, until=until, **where)

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
        community=scope.community,
        grid=scope.grid,
        period_from=days.start,
        period_to=days.end,
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
