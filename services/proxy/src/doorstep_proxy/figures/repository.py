"""Every figures query: counts over the ledger, demands, cases and visits of a community or grid
(tenancy applied as everywhere: another community's rows are not counted)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import case, func, select
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from doorstep_shared.auth.tokens import Principal

from ..cases.models import CLOSED_STATUSES, ProxyCase, Visit
from ..demands.models import Demand
from ..ledger.groups import GROUPS, group_condition
from ..ledger.models import Compound, Household, Resident
from ..tenancy import scoped

# --- the ledger and demands per grid ------------------------------------------------------


async def ledger_counts_by_grid(
    session: AsyncSession,
    principal: Principal,
    *,
    community: str | None,
    grid: str | None,
    today: dt.date,
) -> dict[tuple[str, str], dict[str, int]]:
    """Per (community, grid): compounds, households, residents and each special group."""
    out: dict[tuple[str, str], dict[str, int]] = {}

    def slot(c: str, g: str) -> dict[str, int]:
        return out.setdefault((c, g), {})

    stmt = select(col(Compound.community), col(Compound.grid), func.count()).group_by(
        col(Compound.community), col(Compound.grid)
    )
    for c, g, n in (await session.execute(scoped(stmt, Compound, principal, community=community, grid=grid))).all():
        slot(c, g)["compounds"] = int(n)

    stmt = select(col(Household.community), col(Household.grid), func.count()).group_by(
        col(Household.community), col(Household.grid)
    )
    for c, g, n in (await session.execute(scoped(stmt, Household, principal, community=community, grid=grid))).all():
        slot(c, g)["households"] = int(n)

    sums = [func.sum(case((group_condition(gr, today), 1), else_=0)) for gr in GROUPS]
    residents_stmt: Any = (
        select(col(Resident.community), col(Resident.grid), func.count(), *sums)
        .where(col(Resident.status) == "active")
        .group_by(col(Resident.community), col(Resident.grid))
    )
    for c, g, n, *groups in (
        await session.execute(scoped(residents_stmt, Resident, principal, community=community, grid=grid))
    ).all():
        s = slot(c, g)
        s["residents"] = int(n)
        for gr, v in zip(GROUPS, groups, strict=True):
            s[gr] = int(v or 0)
    return out


async def demand_counts(
    session: AsyncSession,
    principal: Principal,
    *,
    community: str | None,
    grid: str | None,
    since: dt.datetime,
    until: dt.datetime,
) -> list[tuple[str, str, int]]:
    """(channel, status, count) of demands created in [since, until)."""
    stmt = (
        select(col(Demand.channel), col(Demand.status), func.count())
        .where(col(Demand.created_at) >= since)
        .where(col(Demand.created_at) < until)
        .group_by(col(Demand.channel), col(Demand.status))
    )
    stmt = scoped(stmt, Demand, principal)  # a machine client: its own demands only
    if community:
        stmt = stmt.where(col(Demand.community) == community)
    if grid:
        stmt = stmt.where(col(Demand.grid) == grid)
    return [(c, s, int(n)) for c, s, n in (await session.execute(stmt)).all()]


# --- cases and visits in a period ----------------------------------------------------


async def cases_accepted_in(
    session: AsyncSession,
    principal: Principal,
    *,
    community: str | None,
    grid: str | None,
    since: dt.datetime,
    until: dt.datetime,
) -> list[tuple[str, str, str, str, uuid.UUID]]:
    """(item_code, channel, accepted_by, grid, resident_id) of cases accepted in [since, until)."""
    stmt = select(
        col(ProxyCase.item_code),
        col(ProxyCase.channel),
        col(ProxyCase.accepted_by),
        col(ProxyCase.grid),
        col(ProxyCase.resident_id),
    ).where(col(ProxyCase.accepted_at) >= since, col(ProxyCase.accepted_at) < until)
    stmt = scoped(stmt, ProxyCase, principal, community=community, grid=grid)
    return [tuple(r) for r in (await session.execute(stmt)).all()]


async def cases_decided_in(
    session: AsyncSession,
    principal: Principal,
    *,
    community: str | None,
    grid: str | None,
    since: dt.datetime,
    until: dt.datetime,
) -> list[tuple[str, str, str, str]]:
    stmt = select(
        col(ProxyCase.item_code), col(ProxyCase.channel), col(ProxyCase.accepted_by), col(ProxyCase.grid)
    ).where(col(ProxyCase.decided_at) >= since, col(ProxyCase.decided_at) < until)
    stmt = scoped(stmt, ProxyCase, principal, community=community, grid=grid)
    return [tuple(r) for r in (await session.execute(stmt)).all()]


async def cases_overdue(
    session: AsyncSession, principal: Principal, *, community: str | None, grid: str | None, today: dt.date
) -> list[tuple[str, str, str, str]]:
    stmt = select(
        col(ProxyCase.item_code), col(ProxyCase.channel), col(ProxyCase.accepted_by), col(ProxyCase.grid)
    ).where(col(ProxyCase.status).not_in(CLOSED_STATUSES), col(ProxyCase.due_date) < today)
    stmt = scoped(stmt, ProxyCase, principal, community=community, grid=grid)
    return [tuple(r) for r in (await session.execute(stmt)).all()]


async def visits_done_in(
    session: AsyncSession,
    principal: Principal,
    *,
    community: str | None,
    grid: str | None,
    date_from: dt.date,
    date_to: dt.date,
) -> list[tuple[str, str]]:
    """(worker, grid) of visits done on days in [date_from, date_to]."""
    stmt = select(col(Visit.worker), col(Visit.grid)).where(
        col(Visit.outcome) == "done", col(Visit.planned_date) >= date_from, col(Visit.planned_date) <= date_to
    )
    stmt = scoped(stmt, Visit, principal, community=community, grid=grid)
    return [tuple(r) for r in (await session.execute(stmt)).all()]


async def demands_in(
    session: AsyncSession,
    principal: Principal,
    *,
    community: str | None,
    grid: str | None,
    since: dt.datetime,
    until: dt.datetime,
) -> list[tuple[str, int]]:
    stmt = (
        select(col(Demand.channel), func.count())
        .where(col(Demand.created_at) >= since, col(Demand.created_at) < until)
        .group_by(col(Demand.channel))
    )
    stmt = scoped(stmt, Demand, principal, community=community, grid=grid)
    return [(c, int(n)) for c, n in (await session.execute(stmt)).all()]
