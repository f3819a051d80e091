"""Every identity query: users, login failures, refresh tokens."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from .models import RefreshToken, User


async def user_by_username(session: AsyncSession, username: str) -> User | None:
    return (await session.exec(select(User).where(User.username == username))).first()


async def record_login_failure(
    session: AsyncSession, user: User, *, max_failures: int, lock_until: dt.datetime
) -> None:
    failures = user.failed_logins + 1
    values: dict[str, object] = {"failed_logins": failures}
    if failures >= max_failures:
        values.update(failed_logins=0, locked_until=lock_until)
    await session.execute(update(User).where(col(User.id) == user.id).values(**values))


async def record_login_success(session: AsyncSession, user: User) -> None:
    if user.failed_logins or user.locked_until:
        await session.execute(update(User).where(col(User.id) == user.id).values(failed_logins=0, locked_until=None))


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


async def list_users(session: AsyncSession, communities: frozenset[str] | None) -> Sequence[User]:
    stmt = select(User).order_by(col(User.username))
    if communities is not None:
        stmt = stmt.where(col(User.community).in_(communities))
    return (await session.exec(stmt)).all()
