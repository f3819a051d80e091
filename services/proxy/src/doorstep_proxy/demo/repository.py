"""Every statement of the demo load. Fixture rows are written as they are (fixed ids, back-dated
timelines, statuses reached without the rules that would apply to a request), and only where
they are missing, so seeding twice changes nothing."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, insert, select
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from ..cases.models import ProxyCase, ProxyCaseMaterial, Visit, VisitCase
from ..demands.models import Demand
from ..ledger.models import Compound, Resident
from ..workers.models import WorkerProfile


async def add(session: AsyncSession, *rows: Any) -> None:
    session.add_all(rows)
    await session.flush()


async def insert_rows(session: AsyncSession, model: Any, rows: list[dict[str, Any]]) -> None:
    if rows:
        await session.execute(insert(model), rows)


# --- the four clears ----------------------------------------------------------------------


async def compound_codes(session: AsyncSession) -> set[str]:
    return set((await session.execute(select(col(Compound.code)))).scalars().all())


async def set_field_attributes(session: AsyncSession, username: str, categories: list[str], status: str) -> None:
    """A demo worker's categories and availability, once (a profile whose categories are unset)."""
    profile = await session.get(WorkerProfile, username)
    if profile is None or profile.categories or profile.status == "inactive":
        return
    profile.categories, profile.status = categories, status
    session.add(profile)
    await session.flush()


async def residents_created_by(session: AsyncSession, actor: str) -> int:
    stmt = select(func.count()).select_from(Resident).where(col(Resident.created_by) == actor)
    return int((await session.execute(stmt)).scalar_one())


async def resident_places(session: AsyncSession, actor: str, limit: int) -> Sequence[Any]:
    """(id, community, grid) of residents the demo created, in a stable order."""
    stmt = (
        select(col(Resident.id), col(Resident.community), col(Resident.grid))
        .where(col(Resident.created_by) == actor)
        .order_by(col(Resident.id_number_hash))
        .limit(limit)
    )
    return (await session.execute(stmt)).all()


async def demands_logged_by(session: AsyncSession, actor: str) -> int:
    stmt = select(func.count()).select_from(Demand).where(col(Demand.logged_by) == actor)
    return int((await session.execute(stmt)).scalar_one())


# --- cases and visits ---------------------------------------------------------------------


async def seeded_residents(session: AsyncSession, actor: str, *conditions: Any, limit: int) -> list[Resident]:
    """Active residents the demo created that meet ``conditions``, in a stable order."""
    stmt = (
        select(Resident)
        .where(col(Resident.created_by) == actor, col(Resident.status) == "active", *conditions)
        .order_by(col(Resident.id_number_hash))
        .limit(limit)
    )
    return list((await session.execute(stmt)).scalars().all())


async def residents_at(session: AsyncSession, compound: str, building: str, room: str) -> list[uuid.UUID]:
    stmt = select(col(Resident.id)).where(
        col(Resident.compound_code) == compound, col(Resident.building) == building, col(Resident.room) == room
    )
    return list((await session.execute(stmt)).scalars().all())


async def case_by_id(session: AsyncSession, case_id: uuid.UUID) -> ProxyCase | None:
    return (await session.execute(select(ProxyCase).where(col(ProxyCase.id) == case_id))).scalar_one_or_none()


async def insert_materials(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    await insert_rows(session, ProxyCaseMaterial, rows)


async def link_visit(session: AsyncSession, visit_id: uuid.UUID, case_ids: Sequence[uuid.UUID]) -> None:
    await insert_rows(session, VisitCase, [{"visit_id": visit_id, "case_id": c} for c in case_ids])


async def visits_of_case(session: AsyncSession, case_id: uuid.UUID, *, date_from: dt.date) -> list[Visit]:
    """A case's visits planned on or after ``date_from``."""
    stmt = (
        select(Visit)
        .join(VisitCase, col(VisitCase.visit_id) == col(Visit.id))
        .where(col(VisitCase.case_id) == case_id, col(Visit.planned_date) >= date_from)
        .order_by(col(Visit.planned_date), col(Visit.id))
    )
    return list((await session.execute(stmt)).scalars().all())
