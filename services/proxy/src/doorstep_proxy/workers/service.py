"""Rules for proxy workers' field profiles (代办人员) and the teams of grids.

Who is a worker follows the gateway's staff records (``follow_roster``): name, community, team
(the staff record's grid) and whether they are active are the staff record's; the proxy owns the
item categories a worker knows and their availability (on leave)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlmodel.ext.asyncio.session import AsyncSession

from doorstep_shared.auth.tokens import Principal
from doorstep_shared.clock import utcnow
from doorstep_shared.directory import Directory
from doorstep_shared.http import check_if_match, etag_of
from doorstep_shared.http.errors import Conflict, NotFound
from doorstep_shared.staff_roster import StaffRecord, StaffRoster

from ..versions import next_row_versions
from . import repository as repo
from .models import WorkerProfile
from .schemas import GridTeam, WorkerFieldProfile, WorkerRead

logger = logging.getLogger("doorstep.proxy.workers")

INACTIVE = "inactive"
NAME_LENGTH = 50  # the profile's display name column


@dataclass
class RosterApplied:
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    retired: list[str] = field(default_factory=list)


def worker_etag(w: WorkerProfile) -> str:
    return etag_of("worker", w.username, w.version)


async def worker_reads(session: AsyncSession, workers: Sequence[WorkerProfile]) -> list[WorkerRead]:
    grids = await repo.grids_of(session, [w.username for w in workers])
    return [
        WorkerRead(
            username=w.username,
            display_name=w.display_name,
            community=w.community,
            grids=grids.get(w.username, []),
            categories=list(w.categories or []),
            status=w.status,
            version=w.version,
            updated_at=w.updated_at,
        )
        for w in workers
    ]


async def workers(
    session: AsyncSession,
    principal: Principal,
    *,
    community: str | None,
    grid: str | None,
    status: str | None,
    after: str | None,
    limit: int,
) -> Sequence[WorkerProfile]:
    return await repo.list_workers(
        session,
        principal,
        community=community,
        grid=grid,
        status=status,
        after=after,
        limit=limit,
    )


async def worker(session: AsyncSession, principal: Principal, username: str) -> WorkerProfile:
    found = await repo.get_worker(session, principal, username)
    if found is None:
        raise NotFound("No such worker profile.", code="worker_not_found")
    return found


async def update_field_profile(
    session: AsyncSession, principal: Principal, username: str, data: WorkerFieldProfile, if_match: str | None
) -> WorkerProfile:
    """Replace what the proxy owns of a worker (categories, availability). The worker must come
    from the staff records: an unknown username is 404 (no second place to add a worker), a
    deactivated one 409."""
    found = await repo.get_worker(session, principal, username, for_update=True)
    if found is None:
        raise NotFound(
            "No such worker: workers are added as staff accounts (POST /api/v1/staff).", code="worker_not_found"
        )
    check_if_match(if_match, worker_etag(found), current_version=found.version)
    if found.status == INACTIVE:
        raise Conflict("The worker's staff account is deactivated.", code="worker_inactive")
    found.status = data.status
    found.categories = sorted(set(data.categories))
    await _bump(session, found)
    return found


async def _bump(session: AsyncSession, profile: WorkerProfile, *, new: bool = False) -> None:
    if not new:
        profile.version += 1
    profile.updated_at = utcnow()
    profile.row_version = await next_row_versions(session)
    await repo.save(session, profile)


async def follow_roster(session: AsyncSession, roster: StaffRoster) -> RosterApplied:
    """Bring the worker roster to the gateway's staff records (``doorstep_shared.staff_roster``):
    every social worker of the roster has a profile with its name, community and team (its
    grid); a deactivated one, or a profile the roster no longer names as a social worker, is
    inactive and on no team (its cases stay assigned; it is offered for no new work).
    Idempotent: only profiles that differ are written."""
    applied = await enrol(session, roster.workers)
    named = {r.username for r in roster.workers}
    for profile in await repo.all_workers(session, for_update=True):
        if profile.username not in named and profile.status != INACTIVE:
            await _retire(session, profile)
            applied.retired.append(profile.username)
    return applied


async def enrol(session: AsyncSession, records: Sequence[StaffRecord]) -> RosterApplied:
    """Apply these staff records to the roster (new profiles, changed names, moved teams,
    deactivations), leaving every other profile as it is."""
    applied = RosterApplied()
    if not records:
        return applied
    usernames = [r.username for r in records]
    have = {p.username: p for p in await repo.workers_named(session, usernames)}
    grids = await repo.grids_of(session, usernames)
    for record in records:
        if not record.is_worker:
            continue
        profile = have.get(record.username)
        team = [record.grid] if record.grid and record.active else []
        name = record.display_name[:NAME_LENGTH]
        assert record.community is not None  # is_worker
        if profile is None:
            profile = WorkerProfile(
                username=record.username,
                display_name=name,
                community=record.community,
                status="active" if record.active else INACTIVE,
                updated_at=utcnow(),
            )
            await _bump(session, profile, new=True)
            await repo.set_grids(session, record.username, team)
            applied.added.append(record.username)
            continue
        status = profile.status
        if not record.active:
            status = INACTIVE
        elif status == INACTIVE:
            status = "active"  # reactivated: available again
        if (profile.display_name, profile.community, profile.status) != (name, record.community, status):
            profile.display_name, profile.community, profile.status = name, record.community, status
            await _bump(session, profile)
            applied.changed.append(record.username)
        if grids.get(record.username, []) != team:
            await repo.set_grids(session, record.username, team)
            if record.username not in applied.changed:
                await _bump(session, profile)
                applied.changed.append(record.username)
    if applied.added or applied.changed:
        logger.info("staff roster: %d workers added, %d changed", len(applied.added), len(applied.changed))
    return applied


async def _retire(session: AsyncSession, profile: WorkerProfile) -> None:
    profile.status = INACTIVE
    await repo.set_grids(session, profile.username, [])
    await _bump(session, profile)


async def grid_team(session: AsyncSession, principal: Principal, directory: Directory, grid: str) -> GridTeam:
    info = directory.grid(grid)
    if info is None or not principal.sees_community(info.community):
        raise NotFound("No such grid.", code="grid_not_found")
    rows = await repo.list_workers(session, principal, community=None, grid=grid, status=None, after=None, limit=500)
    return GridTeam(grid=grid, community=info.community, workers=await worker_reads(session, rows))


async def community_of(session: AsyncSession, username: str) -> str | None:
    """The community of a worker who may be given new work, whoever asks (None: no profile, or
    an inactive one: a deactivated staff account keeps its cases but is offered nothing new)."""
    found = await repo.get_worker(session, None, username)
    return found.community if found is not None and found.status != INACTIVE else None


async def grids_of_worker(session: AsyncSession, username: str) -> list[str]:
    """The grids a worker serves (their team memberships), in code order."""
    return (await repo.grids_of(session, [username]))[username]
