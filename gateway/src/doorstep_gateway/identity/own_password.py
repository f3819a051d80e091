"""Setting one's own password: activation with the one-time code an admin gave, and a change
with the current password (which may have expired), both public routes throttled like sign-in."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from doorstep_shared.auth.tokens import Principal
from doorstep_shared.clock import utcnow
from doorstep_shared.http.errors import Invalid
from doorstep_shared.pii import PiiCipher

from ..db import audit
from ..passwords import hash_password
from . import activation, password_policy, repository, service, throttle
from .errors import ActivationExpired, ActivationInvalid
from .models import User


async def activate(
    session: AsyncSession,
    username: str,
    code: str,
    new_password: str,
    *,
    address: str | None,
    policy: throttle.LoginPolicy,
) -> User:
    """The holder of a one-time code sets their own password; throttled like sign-in (same rows),
    and every wrong answer is the same whether or not the account exists."""
    now = utcnow()
    name = username[:64]
    row = await repository.throttle_row(session, name, (address or "unknown")[:64])
    if await throttle.refusal(session, row, name, policy, now) is not None:
        raise ActivationInvalid()
    user = await repository.user_by_username(session, username)
    if user is None or not user.active or not activation.code_matches(code, user.activation_code_hash):
        await throttle.record_failure(session, row, policy, now)
        await _audit_activation(session, name, user, "failure", reason="no_match")
        raise ActivationInvalid()
    if user.activation_expires_at is None or user.activation_expires_at <= now:
        await throttle.record_failure(session, row, policy, now)
        await _audit_activation(session, name, user, "failure", reason="expired")
        raise ActivationExpired()
    weakness = password_policy.weakness(new_password, user.username)
    if weakness is not None:
        raise Invalid.field("body.new_password", weakness, code="weak_password")
    user.password_hash = await hash_password(new_password)
    user.password_set = True
    user.password_changed_at = now
    user.activation_code_hash = None
    user.activation_expires_at = None
    user.last_active_at = now
    await repository.save_user(session, user)
    await throttle.record_success(session, row, now)
    await _audit_activation(session, name, user, "success")
    return user


async def change_password(
    session: AsyncSession,
    given: service.Credentials,
    new_password: str,
    *,
    policy: throttle.LoginPolicy,
    cipher: PiiCipher,
    dormant_days: int = 0,
) -> User:
    """Someone changes their own password with the current one (and ``otp`` when the account has
    two factors): checked exactly as a sign-in is, throttle, answers and cost included, but an
    expired password is what it is for. The new one meets the activation rules and differs from
    the current one. Every session of the account ends (its holder signs in again)."""
    user, row, second = await service.authenticate(
        session, given, policy, cipher, dormant_days=dormant_days, max_age={}
    )
    weakness = password_policy.weakness(new_password, user.username)
    if weakness is None and new_password == given.password:
        weakness = "must differ from the current password"
    if weakness is not None:
        raise Invalid.field("body.new_password", weakness, code="weak_password")
    now = utcnow()
    user.password_hash = await hash_password(new_password)
    user.password_changed_at = now
    await repository.save_user(session, user)
    await throttle.record_success(session, row, now)
    await service.audit_login(
        session,
        user.username,
        user.community,
        "success",
        second_factor=second or "none",
        address=given.address,
        via=given.via,
    )
    ended = await service.end_every_login(session, user.username)
    principal = Principal(subject=user.username, kind="user", name=user.username)
    await audit.record(
        session,
        principal,
        "staff.password_changed",
        "user",
        user.username,
        community=user.community,
        sessions_ended=ended,
    )
    return user


async def _audit_activation(
    session: AsyncSession, username: str, user: User | None, outcome: str, **details: object
) -> None:
    principal = Principal(subject=username, kind="user", name=username)
    community = user.community if user else None
    await audit.record(
        session, principal, "staff.activated", "user", username, community=community, outcome=outcome, **details
    )
