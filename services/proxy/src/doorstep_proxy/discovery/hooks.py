"""The ledger's hook: residents whose facts changed are queued (in the same transaction) and
re-evaluated shortly after — by the background pass, or by the next lead read (read your writes)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlmodel.ext.asyncio.session import AsyncSession

from doorstep_shared.clock import utcnow

from . import repository as repo


async def residents_changed(session: AsyncSession, resident_ids: Sequence[uuid.UUID]) -> None:
    if resident_ids:
        await repo.enqueue(session, resident_ids, utcnow())
