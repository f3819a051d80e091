"""Following the org directory (``doorstep_shared.directory_copy``): a station whose compound the
directory moved to another community moves with it (its keepers' community admins then manage
it). Idempotent: a station already in its compound's community is left alone. Each move is a
log line (the stations service keeps no audit log of its own); the proxy audits the compound's
move."""

from __future__ import annotations

import logging

from sqlmodel.ext.asyncio.session import AsyncSession

from doorstep_shared.clock import utcnow
from doorstep_shared.directory import Directory

from ..stations import service as stations_service
from . import repository as repo

logger = logging.getLogger("doorstep.stations.placement")


async def follow(session: AsyncSession, directory: Directory) -> dict[str, tuple[str, str]]:
    """Move each station to its compound's community; the moves, station → (from, to)."""
    moved: dict[str, tuple[str, str]] = {}
    now = utcnow()
    for code, compound_code, community in await repo.placements(session):
        compound = directory.compound(compound_code)
        if compound is None or compound.community == community:
            continue
        await repo.rehome(session, code, compound.community, now)
        moved[code] = (community, compound.community)
        logger.info(
            "station %s re-homed from %s to %s (directory %s)",
            code,
            community,
            compound.community,
            directory.revision,
            extra={"station": code, "from_community": community, "to_community": compound.community},
        )
    if moved:
        await stations_service.bump_revision(session)  # the stations' reads show their community
    return moved
