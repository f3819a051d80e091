"""Rules for proxy workers' field profiles (代办人员) and the teams of grids."""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel.ext.asyncio.session import AsyncSession

from doorstep_shared.auth.tokens import Principal
from doorstep_shared.clock import utcnow
from doorstep_shared.directory import Directory
from doorstep_shared.http import check_if_match, etag_of
from doorstep_shared.http.errors import Conflict, Invalid, NotFound

from ..versions import next_row_versions
from . import repository as repo
from .models import WorkerProfile
from .schemas import GridTeam, WorkerRead, WorkerUpsert


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


async def upsert_worker(
    session: AsyncSession,
    principal: Principal,
    directory: Directory,
    username: str,
    data: WorkerUpsert,
    if_match: str | None,
) -> tuple[WorkerProfile, bool]:
    """Create or replace a worker's field profile; returns (profile, created)."""
    community = data.community or principal.community
    if not community or directory.community(community) is None:
        raise Invalid.field("body.community", "unknown community")
    if not principal.sees_community(community):
        raise Invalid.field("body.community", "outside your communities")
    for grid in data.grids:
        info = directory.grid(grid)
        if info is None or info.community != community:
            raise Invalid.field("body.grids", "a grid is not one of the community's grids")
    found = await repo.get_worker(session, None, username, for_update=True)
    if found is not None and not principal.sees_community(found.community):
        raise Conflict("This username has a profile in another community.", code="worker_elsewhere")
    created = found is None
    now = utcnow()
    if found is None:
        found = WorkerProfile(username=username, display_name=data.display_name, community=community, updated_at=now)
    else:
        check_if_match(if_match, worker_etag(found), current_version=found.version)
        found.version += 1
    found.display_name = data.display_name
    found.community = community
    found.status = data.status
    found.categories = sorted(set(data.categories))
    found.updated_at = now
    found.row_version = await next_row_versions(session)
    await repo.save(session, found)
    await repo.set_grids(session, username, sorted(set(data.grids)))
    return found, created


async def grid_team(session: AsyncSession, principal: Principal, directory: Directory, grid: str) -> GridTeam:
    info = directory.grid(grid)
    if info is None or not principal.sees_community(info.community):
        raise NotFound("No such grid.", code="grid_not_found")
    rows = await repo.list_workers(session, principal, community=None, grid=grid, status=None, after=None, limit=500)
    return GridTeam(grid=grid, community=info.community, workers=await worker_reads(session, rows))


async def community_of(session: AsyncSession, username: str) -> str | None:
    """The community of a worker's field profile (None: no profile), whoever asks."""
    found = await repo.get_worker(session, None, username)
    return found.community if found is not None else None


async def grids_of_worker(session: AsyncSession, username: str) -> list[str]:
    """The grids a worker serves (their team memberships), in code order."""
    return (await repo.grids_of(session, [username]))[username]
