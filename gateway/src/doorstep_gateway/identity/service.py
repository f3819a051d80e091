"""Identity rules: password, refresh and client-credentials grants, revocation; staff lists."""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlmodel.ext.asyncio.session import AsyncSession

from doorstep_shared.auth.tokens import REFRESH, Principal, TokenSigner, TokenVerifier
from doorstep_shared.clock import utcnow
from doorstep_shared.http.errors import Conflict, Forbidden, Invalid, NotFound, Unauthorized
from doorstep_shared.pii import PiiCipher

from ..clients import service as client_registry
from ..db import audit
from ..passwords import verify_and_update
from . import mfa, repository, throttle
from .errors import (
    InvalidClient,
    InvalidGrant,
    InvalidScope,
    MfaInvalid,
    MfaRequired,
    PasswordExpired,
    ReusedRefreshToken,
)
from .models import LoginSession, LoginThrottle, MfaFactor, RefreshToken, User


def _hash(jti: str) -> str:
    return hashlib.sha256(jti.encode()).hexdigest()


def user_principal(user: User, *, mfa_enrollment: bool = False, session_id: str | None = None) -> Principal:
    return Principal(
        subject=user.username,
        kind="user",
        name=user.display_name,
        roles=frozenset(user.roles),
        county=user.county,
        community=user.community,
        grid=user.grid,
        mfa_enrollment=mfa_enrollment,
        session_id=session_id,
    )


async def _must_enrol(session: AsyncSession, user: User, mfa_roles: frozenset[str]) -> bool:
    """A role of the account requires two factors and it has no confirmed authenticator."""
    if not set(user.roles) & mfa_roles:
        return False
    factor = await mfa.factor_of(session, user.username)
    return factor is None or factor.confirmed_at is None


@dataclass(frozen=True)
class SessionPolicy:
    """How long a sign-in lasts (from sign-in) and how long it may go unused (between refreshes),
    the strictest of the account's roles' (``DOORSTEP_GATEWAY_SESSION_POLICIES``)."""

    lifetime: int
    idle: int

    @classmethod
    def of(cls, roles: list[str], policies: dict[str, tuple[int, int]], default_ttl: int) -> SessionPolicy:
        named = [policies[r] for r in roles if r in policies]
        if not named:
            return cls(lifetime=default_ttl, idle=default_ttl)
        return cls(lifetime=min(p[0] for p in named), idle=min(p[1] for p in named))


@dataclass(frozen=True)
class Device:
    """Where a sign-in comes from, as the client labels it (``device_id``, ``device_name`` form
    fields) and as the connection shows it (address)."""

    address: str | None = None
    device_id: str | None = None
    device_name: str | None = None


async def _issue_pair(
    session: AsyncSession,
    signer: TokenSigner,
    user: User,
    family: str,
    *,
    device: Device,
    new_session: bool,
    mfa_enrollment: bool = False,
    policy: SessionPolicy | None = None,
    started_at: dt.datetime | None = None,
) -> dict[str, object]:
    """A new access + refresh token pair for the login ``family``; records the session (new) or
    when and where it was last seen (a refresh)."""
    access, _claims = signer.access_token(user_principal(user, mfa_enrollment=mfa_enrollment, session_id=family))
    jti = uuid.uuid4().hex
    ttl = None
    if policy is not None:  # unused for `idle`, and never past the session's lifetime
        left = policy.lifetime - int((utcnow() - (started_at or utcnow())).total_seconds())
        ttl = max(1, min(policy.idle, left))
    refresh, refresh_claims = signer.refresh_token(user.username, jti=jti, family=family, ttl=ttl)
    await repository.add_refresh_token(
        session,
        RefreshToken(
            jti_hash=_hash(jti),
            family=family,
            username=user.username,
            expires_at=dt.datetime.fromtimestamp(refresh_claims["exp"], dt.UTC),
        ),
    )
    now = utcnow()
    expires_at = dt.datetime.fromtimestamp(refresh_claims["exp"], dt.UTC)
    address = (device.address or "")[:64] or None
    if new_session:
        await repository.add_login_session(
            session,
            LoginSession(
                id=family,
                username=user.username,
                device_id=device.device_id,
                device_name=device.device_name,
                first_address=address,
                last_address=address,
                created_at=now,
                last_seen_at=now,
                expires_at=expires_at,
            ),
        )
    else:
        await repository.touch_login_session(session, family, when=now, address=address, expires_at=expires_at)
    return {
        "access_token": access,
        "token_type": "bearer",
        "expires_in": signer.access_ttl,
        "refresh_token": refresh,
    }


async def password_grant(
    session: AsyncSession,
    signer: TokenSigner,
    username: str,
    password: str,
    *,
    address: str | None,
    policy: throttle.LoginPolicy,
    cipher: PiiCipher,
    mfa_roles: frozenset[str] = frozenset(),
    otp: str | None = None,
    device: Device | None = None,
    session_policies: dict[str, tuple[int, int]] | None = None,
    dormant_days: int = 0,
    password_max_age: dict[str, int] | None = None,
) -> dict[str, object]:
    """Sign in (see :func:`authenticate`). An account whose role requires two factors and that
    has none gets a token that reaches only the enrolment endpoints."""
    now = utcnow()
    check = Credentials(username, password, otp, address)
    user, row, second = await authenticate(
        session, check, policy, cipher, dormant_days=dormant_days, max_age=password_max_age or {}
    )
    enrol = not second and await _must_enrol(session, user, mfa_roles)
    await throttle.record_success(session, row, now)
    await audit_login(
        session, user.username, user.community, "success", second_factor=second or "none", address=address
    )
    device = device or Device(address=address)
    user.last_active_at = now
    await repository.save_user(session, user)
    return await _issue_pair(
        session,
        signer,
        user,
        family=uuid.uuid4().hex,
        device=device,
        new_session=True,
        mfa_enrollment=enrol,
        policy=SessionPolicy.of(user.roles, session_policies or {}, signer.refresh_ttl),
        started_at=now,
    )


@dataclass(frozen=True)
class Credentials:
    """What a sign-in or a password change presents, and where from."""

    username: str
    password: str
    otp: str | None
    address: str | None
    via: str | None = None  # "password_change" in the login history; None: the token endpoint


async def authenticate(
    session: AsyncSession,
    given: Credentials,
    policy: throttle.LoginPolicy,
    cipher: PiiCipher,
    *,
    dormant_days: int,
    max_age: dict[str, int],
) -> tuple[User, LoginThrottle, str | None]:
    """The account, its throttle row and the second factor used ("totp", "recovery"; None: the
    account has none), or a refusal. Throttled per (username, address) the same way whether or
    not the account exists (see :mod:`.throttle`), and every wrong password or unknown account
    answers the same. An account with two factors also needs ``otp`` (a TOTP code or an unused
    recovery code): missing, 401 ``mfa_required``; wrong, 401 ``mfa_invalid`` (a throttled
    failure like a wrong password). The second factor is checked (against a dummy when the
    password was wrong or the account has none) on every attempt, so the failure paths do the
    same work. A right password older than ``max_age`` allows its roles is 401
    ``password_expired`` (its code is not spent: the change needs it). A sign-in that passes
    replaces a hash made with other Argon2 parameters than the configured ones."""
    now = utcnow()
    name = given.username[:64]
    via = {"via": given.via} if given.via else {}
    address = given.address
    row = await repository.throttle_row(session, name, (address or "unknown")[:64])
    refused = await throttle.refusal(session, row, name, policy, now)
    if refused is not None:
        await audit_login(session, name, None, "failure", reason=refused, address=address, **via)
        raise InvalidGrant(throttle.SIGN_IN_REFUSED)
    user = await repository.user_by_username(session, given.username)
    # Hashed for unknown users and unactivated accounts too (against a dummy), so all cost the same.
    usable = user.password_hash if user is not None and user.password_set else None
    ok, rehashed = await verify_and_update(given.password, usable)
    passed = user is not None and ok and user.active
    factor = await mfa.factor_of(session, user.username) if user is not None else None
    has_mfa = factor is not None and factor.confirmed_at is not None
    expired = user is not None and passed and _password_expired(user, now, max_age)
    otp = given.otp or ""
    spend = passed and has_mfa and bool(otp) and not expired
    second = await mfa.check(session, cipher, name, factor, otp, spend=spend)
    if user is None or not ok or not user.active:
        await throttle.record_failure(session, row, policy, now)
        reason = (
            "unknown_user"
            if user is None
            else "not_activated"
            if not user.password_set
            else "bad_password"
            if not ok
            else "inactive"
        )
        community = user.community if user else None
        await audit_login(session, name, community, "failure", reason=reason, address=address, **via)
        raise InvalidGrant(throttle.SIGN_IN_REFUSED)
    if dormant_days and _dormant(user, now, dormant_days):
        user.active = False
        await repository.save_user(session, user)
        await throttle.record_failure(session, row, policy, now)
        await audit_login(session, name, user.community, "failure", reason="dormant", address=address, **via)
        await audit.record(
            session, None, "staff.locked_dormant", "user", user.username, community=user.community, days=dormant_days
        )
        raise InvalidGrant(throttle.SIGN_IN_REFUSED)
    if expired:
        await audit_login(session, name, user.community, "failure", reason="password_expired", address=address)
        raise PasswordExpired()
    if has_mfa and not otp:
        await audit_login(session, name, user.community, "failure", reason="mfa_required", address=address, **via)
        raise MfaRequired()
    if has_mfa and second is None:
        await throttle.record_failure(session, row, policy, now)
        await audit_login(session, name, user.community, "failure", reason="mfa_invalid", address=address, **via)
        raise MfaInvalid()
    if rehashed is not None:  # made with other Argon2 parameters: upgraded while the password is at hand
        user.password_hash = rehashed
        await repository.save_user(session, user)
    return user, row, second if has_mfa else None


def _password_expired(user: User, now: dt.datetime, max_age: dict[str, int]) -> bool:
    """Older than the strictest max age of the account's roles (roles not named: never)."""
    days = [max_age[r] for r in user.roles if r in max_age]
    if not days:
        return False
    return (user.password_changed_at or user.created_at) <= now - dt.timedelta(days=min(days))


def _dormant(user: User, now: dt.datetime, days: int) -> bool:
    return (user.last_active_at or user.created_at) < now - dt.timedelta(days=days)


async def audit_login(
    session: AsyncSession, username: str, community: str | None, outcome: str, **details: object
) -> None:
    """A sign-in attempt (its address in ``details``: the login history shows where it came from)."""
    principal = Principal(subject=username[:64], kind="user", name=username[:64])
    await audit.record(
        session, principal, "login", "user", username[:64], community=community, outcome=outcome, **details
    )


async def refresh_grant(
    session: AsyncSession,
    signer: TokenSigner,
    verifier: TokenVerifier,
    token: str,
    *,
    mfa_roles: frozenset[str] = frozenset(),
    address: str | None = None,
    session_policies: dict[str, tuple[int, int]] | None = None,
) -> dict[str, object]:
    try:
        claims = await verifier.decode(token, token_type=REFRESH)
    except Unauthorized as exc:
        raise InvalidGrant(f"Refresh token rejected: {exc.detail}") from exc
    jti_hash = _hash(str(claims["jti"]))
    stored = await repository.refresh_token_by_hash(session, jti_hash)
    now = utcnow()
    if stored is None or stored.revoked_at is not None:
        raise InvalidGrant("Refresh token is revoked or unknown.")
    if stored.used_at is not None or not await repository.mark_refresh_used(session, jti_hash, now):
        # A used token came back: someone holds a copy. End the whole login.
        await repository.revoke_family(session, stored.family, now)
        raise ReusedRefreshToken()
    user = await repository.user_by_username(session, stored.username)
    if user is None or not user.active:
        raise InvalidGrant("The account is no longer active.")
    enrol = await _must_enrol(session, user, mfa_roles)
    login = await repository.login_session(session, user.username, stored.family)
    policy = SessionPolicy.of(user.roles, session_policies or {}, signer.refresh_ttl)
    started = login.created_at if login is not None else stored.issued_at
    if started + dt.timedelta(seconds=policy.lifetime) <= now:
        await repository.revoke_family(session, stored.family, now)
        raise InvalidGrant("The session has reached its role's lifetime: sign in again.")
    user.last_active_at = now
    await repository.save_user(session, user)
    return await _issue_pair(
        session,
        signer,
        user,
        family=stored.family,
        device=Device(address=address),
        new_session=login is None,
        mfa_enrollment=enrol,
        policy=policy,
        started_at=started,
    )


async def revoke(session: AsyncSession, verifier: TokenVerifier, token: str) -> None:
    """RFC 7009: revoking ends the refresh token's whole login; unknown tokens are ignored."""
    try:
        claims = await verifier.decode(token, token_type=REFRESH)
    except Unauthorized:
        return
    stored = await repository.refresh_token_by_hash(session, _hash(str(claims["jti"])))
    if stored is not None:
        await repository.revoke_family(session, stored.family, utcnow())


async def client_credentials_grant(
    session: AsyncSession,
    signer: TokenSigner,
    client_id: str,
    client_secret: str,
    requested_scope: str | None,
    *,
    address: str | None = None,
) -> dict[str, object]:
    client = await client_registry.authenticate(session, client_id, client_secret)
    actor = Principal(subject=client_id[:64], kind="client", name=client_id[:64])
    if client is None:
        await audit.record(session, actor, "token.client", "api_client", client_id[:64], outcome="failure")
        raise InvalidClient()
    if not client_registry.ip_allowed(client, address):
        await audit.record(
            session, actor, "token.client", "api_client", client_id, outcome="failure", reason="ip_not_allowed"
        )
        raise InvalidClient("Client authentication failed: address not allowed.")
    granted = set(client.scopes)
    if requested_scope:
        requested = set(requested_scope.split())
        if not requested <= granted:
            raise InvalidScope()
        granted = requested
    principal = client_registry.principal_of(client, granted)
    access, _ = signer.access_token(principal)
    await audit.record(session, actor, "token.client", "api_client", client_id, scopes=sorted(granted))
    return {
        "access_token": access,
        "token_type": "bearer",
        "expires_in": signer.access_ttl,
        "scope": " ".join(sorted(granted)),
    }


async def staff(session: AsyncSession, communities: frozenset[str] | None, county: str | None = None) -> Sequence[User]:
    """Staff users of these communities (None: every user), of ``county`` when given (a token
    without a county is from the deployment's single county), by username."""
    return await repository.list_users(session, communities, county)


async def end_every_login(session: AsyncSession, username: str) -> int:
    """Revokes all of a user's refresh tokens now (deactivation, reset); their access tokens
    still verify until they expire (``access_token_ttl``)."""
    return await repository.revoke_user_tokens(session, username, utcnow())


# --- two factors (the caller's own) --------------------------------------------------------

WRONG_CODE = "not the authenticator's current code"


def staff_only(principal: Principal) -> None:
    if principal.kind != "user":
        raise Forbidden("Only staff accounts have two factors and sessions.", code="staff_only")


async def mfa_enroll(session: AsyncSession, cipher: PiiCipher, principal: Principal) -> mfa.Enrolment:
    """A new (pending) authenticator secret for the caller, replacing an unconfirmed one; sign-in
    asks for codes only once it is confirmed."""
    staff_only(principal)
    factor = await mfa.factor_of(session, principal.subject, for_update=True)
    if factor is not None and factor.confirmed_at is not None:
        raise Conflict("Two-factor sign-in is already on: disable it first.", code="mfa_already_enabled")
    enrolment, stored = mfa.new_enrolment(cipher, principal.subject)
    if factor is None:
        factor = MfaFactor(username=principal.subject, secret_cipher=stored)
    else:
        factor.secret_cipher, factor.last_step, factor.created_at = stored, 0, utcnow()
    session.add(factor)
    await session.flush()
    await audit.record(session, principal, "mfa.enrolled", "user", principal.subject, community=principal.community)
    return enrolment


async def mfa_confirm(session: AsyncSession, cipher: PiiCipher, principal: Principal, code: str) -> list[str]:
    """The first code turns two factors on; answers the ten recovery codes (shown only here)."""
    staff_only(principal)
    factor = await mfa.factor_of(session, principal.subject, for_update=True)
    if factor is None:
        raise Conflict("No pending authenticator: enrol first.", code="mfa_not_enrolled")
    if factor.confirmed_at is not None:
        raise Conflict("Two-factor sign-in is already on.", code="mfa_already_enabled")
    codes = await mfa.confirm(session, cipher, factor, code)
    if codes is None:
        raise Invalid.field("body.code", WRONG_CODE, code="mfa_invalid")
    await audit.record(session, principal, "mfa.confirmed", "user", principal.subject, community=principal.community)
    return codes


async def mfa_disable(session: AsyncSession, cipher: PiiCipher, principal: Principal, code: str) -> None:
    """Turns two factors off; needs a current authenticator code (not a recovery code)."""
    staff_only(principal)
    factor = await mfa.factor_of(session, principal.subject, for_update=True)
    if factor is None or factor.confirmed_at is None:
        raise Conflict("Two-factor sign-in is not on.", code="mfa_not_enrolled")
    step = mfa.matching_step(mfa.secret_of(cipher, factor), code, factor.last_step)
    if step is None:
        raise Invalid.field("body.code", WRONG_CODE, code="mfa_invalid")
    await mfa.remove(session, principal.subject)
    await audit.record(session, principal, "mfa.disabled", "user", principal.subject, community=principal.community)


# --- sessions --------------------------------------------------------------------------------


async def sessions_of(session: AsyncSession, username: str) -> Sequence[LoginSession]:
    """The user's live sessions (not ended, not expired), most recently seen first."""
    return await repository.live_sessions(session, username, utcnow())


async def end_session(
    session: AsyncSession, actor: Principal, username: str, session_id: str, *, community: str | None = None
) -> None:
    """Ends one of ``username``'s sessions (404 when it is not theirs or already over): its next
    refresh fails; its access token lives to its expiry."""
    found = await repository.login_session(session, username, session_id)
    now = utcnow()
    if found is None or found.revoked_at is not None or found.expires_at <= now:
        raise NotFound(f"No session {session_id!r}.")
    await repository.revoke_family(session, session_id, now)
    await audit.record(
        session,
        actor,
        "session.ended",
        "user",
        username,
        community=community,
        session_id=session_id,
        device_name_given=found.device_name is not None,
    )


async def end_all_sessions(session: AsyncSession, principal: Principal, *, keep_current: bool) -> int:
    """Signs the caller out everywhere (but the session of this token when ``keep_current``);
    how many sessions ended."""
    now = utcnow()
    ended = 0
    for live in await repository.live_sessions(session, principal.subject, now):
        if keep_current and live.id == principal.session_id:
            continue
        await repository.revoke_family(session, live.id, now)
        ended += 1
    await audit.record(
        session,
        principal,
        "session.ended_all",
        "user",
        principal.subject,
        community=principal.community,
        ended=ended,
        kept_current=keep_current,
    )
    return ended
