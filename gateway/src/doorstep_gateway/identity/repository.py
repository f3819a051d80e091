"""Every identity query: users, sign-in throttling, refresh tokens."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import func, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from .models import LoginSession, LoginThrottle, RefreshToken, User


async def user_by_username(session: AsyncSession, username: str) -> User | None:
    return (await session.exec(select(User).where(User.username == username))).first()


async def throttle_row(session: AsyncSession, username: str, address: str) -> LoginThrottle:
    """The (username, address) row, made if missing (concurrent first attempts make one row)
    and locked for this sign-in attempt."""
    dialect = (await session.connection()).dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    await session.execute(
        insert(LoginThrottle)
        .values(username=username, address=address, failures=0)
        .on_conflict_do_nothing(index_elements=["username", "address"])
    )
    stmt = (
        select(LoginThrottle)
        .where(LoginThrottle.username == username, LoginThrottle.address == address)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return (await session.exec(stmt)).one()


async def recent_failures(session: AsyncSession, username: str, since: dt.datetime) -> int:
    """Failures for this username from every address, counting rows that failed since ``since``."""
    stmt = select(func.coalesce(func.sum(LoginThrottle.failures), 0)).where(
        LoginThrottle.username == username, col(LoginThrottle.last_failure_at) >= since
    )
    return int((await session.exec(stmt)).one())


async def save_throttle(session: AsyncSession, row: LoginThrottle, **values: object) -> None:
    await session.execute(update(LoginThrottle).where(col(LoginThrottle.id) == row.id).values(**values))


async def add_refresh_token(session: AsyncSession, token: RefreshToken) -> None:
    session.add(token)
    await session.flush()


async def refresh_token_by_hash(session: AsyncSession, jti_hash: str) -> RefreshToken | None:
    return await session.get(RefreshToken, jti_hash, with_for_update=True)


async def mark_refresh_used(session: AsyncSession, jti_hash: str, when: dt.datetime) -> bool:
    """Marks a refresh token used; False if another request used it first (reuse)."""
    result = await session.execute(
        update(RefreshToken)
        .where(col(RefreshToken.jti_hash) == jti_hash, col(RefreshToken.used_at).is_(None))
        .values(used_at=when)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def revoke_family(session: AsyncSession, family: str, when: dt.datetime) -> None:
    await session.execute(
        update(RefreshToken)
        .where(col(RefreshToken.family) == family, col(RefreshToken.revoked_at).is_(None))
        .values(revoked_at=when)
    )
    await session.execute(
        update(LoginSession)
        .where(col(LoginSession.id) == family, col(LoginSession.revoked_at).is_(None))
        .values(revoked_at=when)
    )


async def revoke_user_tokens(session: AsyncSession, username: str, when: dt.datetime) -> int:
    """Revokes every refresh token of a user (every login at once); how many were live."""
    result = await session.execute(
        update(RefreshToken)
        .where(col(RefreshToken.username) == username, col(RefreshToken.revoked_at).is_(None))
        .values(revoked_at=when)
    )
    await session.execute(
        update(LoginSession)
        .where(col(LoginSession.username) == username, col(LoginSession.revoked_at).is_(None))
        .values(revoked_at=when)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


async def add_login_session(session: AsyncSession, login: LoginSession) -> None:
    session.add(login)
    await session.flush()


async def touch_login_session(
    session: AsyncSession, family: str, *, when: dt.datetime, address: str | None, expires_at: dt.datetime
) -> None:
    await session.execute(
        update(LoginSession)
        .where(col(LoginSession.id) == family)
        .values(last_seen_at=when, last_address=address, expires_at=expires_at)
    )


async def live_sessions(session: AsyncSession, username: str, now: dt.datetime) -> Sequence[LoginSession]:
    """A user's sessions not ended and not expired, most recently seen first."""
    stmt = (
        select(LoginSession)
        .where(
            col(LoginSession.username) == username,
            col(LoginSession.revoked_at).is_(None),
            col(LoginSession.expires_at) > now,
        )
        .order_by(col(LoginSession.last_seen_at).desc(), col(LoginSession.id))
    )
    return (await session.exec(stmt)).all()


async def login_session(session: AsyncSession, username: str, session_id: str) -> LoginSession | None:
    stmt = select(LoginSession).where(col(LoginSession.id) == session_id, col(LoginSession.username) == username)
    return (await session.exec(stmt)).first()


async def save_user(session: AsyncSession, user: User) -> None:
    session.add(user)
    await session.flush()


async def list_users(
    session: AsyncSession, communities: frozenset[str] | None, county: str | None = None
) -> Sequence[User]:
    stmt = select(User).order_by(col(User.username))
    if county is not None:
        stmt = stmt.where(col(User.county) == county)
    if communities is not None:
        stmt = stmt.where(col(User.community).in_(communities))
    return (await session.exec(stmt)).all()
