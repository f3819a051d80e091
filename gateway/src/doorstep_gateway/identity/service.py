"""Identity rules: password, refresh and client-credentials grants, revocation; staff lists."""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from collections.abc import Sequence

from sqlmodel.ext.asyncio.session import AsyncSession

from doorstep_shared.auth.tokens import REFRESH, Principal, TokenSigner, TokenVerifier
from doorstep_shared.clock import utcnow
from doorstep_shared.http.errors import Invalid, Unauthorized

from ..clients import service as client_registry
from ..db import audit
from ..passwords import hash_password, verify_password
from . import activation, password_policy, repository, throttle
from .errors import ActivationExpired, ActivationInvalid, InvalidClient, InvalidGrant, InvalidScope, ReusedRefreshToken
from .models import RefreshToken, User


def _hash(jti: str) -> str:
    return hashlib.sha256(jti.encode()).hexdigest()


def user_principal(user: User) -> Principal:
    return Principal(
        subject=user.username,
        kind="user",
        name=user.display_name,
        roles=frozenset(user.roles),
        county=user.county,
        community=user.community,
        grid=user.grid,
    )


async def _issue_pair(session: AsyncSession, signer: TokenSigner, user: User, family: str) -> dict[str, object]:
    access, _claims = signer.access_token(user_principal(user))
    jti = uuid.uuid4().hex
    refresh, refresh_claims = signer.refresh_token(user.username, jti=jti, family=family)
    await repository.add_refresh_token(
        session,
        RefreshToken(
            jti_hash=_hash(jti),
            family=family,
            username=user.username,
            expires_at=dt.datetime.fromtimestamp(refresh_claims["exp"], dt.UTC),
        ),
    )
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
) -> dict[str, object]:
    """Sign in; throttled per (username, address) the same way whether or not the account exists
    (see :mod:`.throttle`), and every refusal answers the same."""
    now = utcnow()
    name = username[:64]
    row = await repository.throttle_row(session, name, (address or "unknown")[:64])
    refused = await throttle.refusal(session, row, name, policy, now)
    if refused is not None:
        await _audit_login(session, name, None, "failure", reason=refused)
        raise InvalidGrant(throttle.SIGN_IN_REFUSED)
    user = await repository.user_by_username(session, username)
    # Hashed for unknown users and unactivated accounts too (against a dummy), so all cost the same.
    usable = user.password_hash if user is not None and user.password_set else None
    ok = await verify_password(password, usable)
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
        await _audit_login(session, name, user.community if user else None, "failure", reason=reason)
        raise InvalidGrant(throttle.SIGN_IN_REFUSED)
    await throttle.record_success(session, row, now)
    await _audit_login(session, name, user.community, "success")
    return await _issue_pair(session, signer, user, family=uuid.uuid4().hex)


async def _audit_login(
    session: AsyncSession, username: str, community: str | None, outcome: str, **details: object
) -> None:
    principal = Principal(subject=username[:64], kind="user", name=username[:64])
    await audit.record(
        session, principal, "login", "user", username[:64], community=community, outcome=outcome, **details
    )


async def refresh_grant(
    session: AsyncSession, signer: TokenSigner, verifier: TokenVerifier, token: str
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
    return await _issue_pair(session, signer, user, family=stored.family)


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
    user.password_hash = hash_password(new_password)
    user.password_set = True
    user.activation_code_hash = None
    user.activation_expires_at = None
    await repository.save_user(session, user)
    await throttle.record_success(session, row, now)
    await _audit_activation(session, name, user, "success")
    return user


async def _audit_activation(
    session: AsyncSession, username: str, user: User | None, outcome: str, **details: object
) -> None:
    principal = Principal(subject=username, kind="user", name=username)
    community = user.community if user else None
    await audit.record(
        session, principal, "staff.activated", "user", username, community=community, outcome=outcome, **details
    )


async def end_every_login(session: AsyncSession, username: str) -> int:
    """Revokes all of a user's refresh tokens now (deactivation, reset); their access tokens
    still verify until they expire (``access_token_ttl``)."""
    return await repository.revoke_user_tokens(session, username, utcnow())
