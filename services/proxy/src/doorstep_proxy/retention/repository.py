"""The purge's statements: who is due, the conditional erasure (exactly once, with replicas
racing), the erasure's reveal record, and the demands' contact details."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ..demands.models import Demand
from ..ledger.models import Resident, RevealAudit

ERASED = "erased:"  # the lookup hash of an erased resident starts so


async def due(session: AsyncSession, cutoff: dt.datetime, limit: int) -> list[tuple[uuid.UUID, str, dt.datetime]]:
    """(id, community, removed at) of residents off the register since before ``cutoff`` and not
    yet erased, oldest first."""
    stmt = (
        select(Resident.id, Resident.community, Resident.removed_at)
        .where(
            col(Resident.status) != "active",
            col(Resident.removed_at).is_not(None),
            col(Resident.removed_at) < cutoff,
            col(Resident.id_number_hash).not_like(f"{ERASED}%"),
        )
        .order_by(col(Resident.removed_at), col(Resident.id))
        .limit(limit)
    )
    rows = (await session.exec(stmt)).all()
    return [(rid, community, removed_at or cutoff) for rid, community, removed_at in rows]


async def erase(session: AsyncSession, resident_id: uuid.UUID, values: dict[str, Any]) -> bool:
    """Write ``values`` over the resident unless they were erased already; True when this call did."""
    result: Any = await session.execute(
        update(Resident)
        .where(col(Resident.id) == resident_id, col(Resident.id_number_hash).not_like(f"{ERASED}%"))
        .values(**values, version=col(Resident.version) + 1)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0) == 1


def add_record(session: AsyncSession, record: RevealAudit) -> None:
    session.add(record)


async def clear_demand_contacts(session: AsyncSession, resident_ids: Sequence[uuid.UUID], now: dt.datetime) -> int:
    """The contact name and phone of these residents' demands go; returns the demands changed."""
    result: Any = await session.execute(
        update(Demand)
        .where(
            col(Demand.resident_id).in_(list(resident_ids)),
            (col(Demand.contact_name).is_not(None)) | (col(Demand.contact_phone_enc).is_not(None)),
        )
        .values(contact_name=None, contact_phone_enc=None, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)
