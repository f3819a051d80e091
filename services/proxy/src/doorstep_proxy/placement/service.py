"""Following the org directory (``doorstep_shared.directory_copy``): each new revision is applied
to the ledger in one transaction. A compound the ledger lacks is added (so it can take residents
at once); a compound whose community or grid changed is re-homed — its households, residents,
open cases and demands, planned visits and leads move with it, their sync versions bumped so phones see the
move, and one audit entry records it. Applying a revision twice changes nothing: only rows that
differ from the directory move. The directory owns a compound's place; its name, address and
counts are the ledger's once the compound exists (the survey corrects them).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlmodel.ext.asyncio.session import AsyncSession

from doorstep_shared.clock import utcnow
from doorstep_shared.db.audit import AuditEvent
from doorstep_shared.directory import Directory

from ..audit import audit_log
from ..versions import next_row_versions
from . import repository as repo

logger = logging.getLogger("doorstep.proxy.placement")

ACTOR = "directory"


@dataclass(frozen=True)
class Applied:
    added: list[str]
    rehomed: dict[str, dict[str, int]]


async def follow(session: AsyncSession, directory: Directory) -> Applied:
    """Bring the ledger's compounds to ``directory`` (see the module's documentation)."""
    placed = await repo.placements(session)
    now = utcnow()
    new = [c for c in directory.compounds if c.code not in placed]
    if new:
        last = await next_row_versions(session, len(new))
        await repo.insert_compounds(
            session,
            [
                {
                    "code": c.code,
                    "name": c.name,
                    "community": c.community,
                    "grid": c.grid,
                    "address": c.address,
                    "buildings": c.buildings or 0,
                    "households": c.households or 0,
                    "latitude": c.latitude,
                    "longitude": c.longitude,
                    "version": 1,
                    "row_version": last - len(new) + 1 + i,
                    "updated_at": now,
                }
                for i, c in enumerate(new)
            ],
        )
    rehomed: dict[str, dict[str, int]] = {}
    for c in directory.compounds:
        before = placed.get(c.code)
        if before is None or before == (c.community, c.grid):
            continue
        moved = await repo.rehome(session, c.code, c.community, c.grid, await next_row_versions(session), now)
        rehomed[c.code] = moved
        await audit_log.append(
            session,
            AuditEvent(
                actor=ACTOR,
                actor_kind="service",
                action="compound.rehome",
                subject_type="compound",
                subject_id=c.code,
                community=c.community,
                details={
                    "revision": directory.revision,
                    "from_community": before[0],
                    "from_grid": before[1],
                    "to_grid": c.grid,
                    **moved,
                },
            ),
        )
    if new or rehomed:
        logger.info("directory %s: %d compounds added, %d re-homed", directory.revision, len(new), len(rehomed))
    return Applied([c.code for c in new], rehomed)
