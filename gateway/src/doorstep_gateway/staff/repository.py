"""Every staff query: accounts by username and the filtered list an admin sees."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement, String, cast
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ..identity.models import User
from .schemas import StaffFilter, StaffScope


def _holds(role: str) -> ColumnElement[bool]:
    # Roles are a small JSON list of names: a text match on its serialised form works on both
    # databases ("social_worker" quoted, so no role name matches inside another).
    return cast(col(User.roles), String).like(f'%"{role}"%')


async def by_username(session: AsyncSession, username: str, *, for_update: bool = False) -> User | None:
    stmt = select(User).where(User.username == username)
    if for_update:
        stmt = stmt.with_for_update()
    return (await session.exec(stmt)).first()


async def add(session: AsyncSession, user: User) -> None:
    session.add(user)
    await session.flush()


async def listed(
    session: AsyncSession, scope: StaffScope, where: StaffFilter, *, after: str | None, limit: int
) -> Sequence[User]:
    """Accounts in scope matching the filter, by username, the first ``limit`` after ``after``."""
    stmt = select(User).order_by(col(User.username)).limit(limit)
    if after is not None:
        stmt = stmt.where(col(User.username) > after)
    if scope.county_admins_only:
        stmt = stmt.where(_holds("county_admin"))
    else:
        county = col(User.county)
        stmt = stmt.where(county.is_(None) if scope.county is None else county == scope.county)
        stmt = stmt.where(~_holds("platform_admin"))
    if scope.community is not None:  # a community admin: their community, no county role holders
        stmt = stmt.where(col(User.community) == scope.community)
        stmt = stmt.where(~_holds("county_admin"), ~_holds("auditor"), ~_holds("security_officer"))
    if where.community is not None:
        stmt = stmt.where(col(User.community) == where.community)
    if where.grid is not None:
        stmt = stmt.where(col(User.grid) == where.grid)
    if where.role is not None:
        stmt = stmt.where(_holds(where.role))
    if where.active is not None:
        stmt = stmt.where(col(User.active) == where.active)
    return (await session.exec(stmt)).all()


async def field_staff(session: AsyncSession) -> Sequence[User]:
    """Every account holding a field role (social worker, station keeper), active or not: the
    roster the services follow."""
    stmt = select(User).where(_holds("social_worker") | _holds("station_keeper")).order_by(col(User.username))
    return (await session.exec(stmt)).all()
