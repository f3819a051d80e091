"""Identity tables: staff users and the refresh tokens issued to them."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Column, UniqueConstraint, text, true
from sqlmodel import Field

from doorstep_shared.clock import utcnow
from doorstep_shared.db import JSONType, UTCDateTime

from ..db import GatewayModel


class User(GatewayModel, table=True):
    """A staff account. ``county`` None: the deployment's single county (rows from before counties
    were data) or, for platform staff, none. A new or reset account has no usable password
    (``password_set`` False) until its holder activates it with the one-time code."""

    __tablename__ = "user_account"

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=64, unique=True)
    display_name: str = Field(max_length=100)
    password_hash: str = Field(max_length=255)
    roles: list[str] = Field(default_factory=list, sa_column=Column(JSONType, nullable=False))
    county: str | None = Field(default=None, max_length=64, index=True)
    community: str | None = Field(default=None, foreign_key="community.code", max_length=64)
    grid: str | None = Field(default=None, foreign_key="grid.code", max_length=64)
    stations: list[str] = Field(
        default_factory=list, sa_column=Column(JSONType, nullable=False, server_default=text("'[]'"))
    )
    # The phone as personal data: AES-GCM ciphertext (doorstep_shared.pii) and its mask for display.
    phone_cipher: str | None = Field(default=None, max_length=255)
    phone_masked: str | None = Field(default=None, max_length=32)
    active: bool = True
    password_set: bool = Field(default=True, sa_column_kwargs={"server_default": true()})
    activation_code_hash: str | None = Field(default=None, max_length=64)
    activation_expires_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Unused since sign-in is throttled per (account, address) in LoginThrottle; dropped later
    # (expand/contract: an older release still running during an upgrade writes them).
    failed_logins: int = 0
    locked_until: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # Last sign-in, refresh, activation or reactivation: an account unused for
    # DORMANT_ACCOUNT_DAYS is locked at its next sign-in (None: since created_at).
    last_active_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    # When the password in use was set (activation, change): it expires PASSWORD_MAX_AGE_DAYS
    # later for the account's roles (None: since created_at).
    password_changed_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)


class LoginThrottle(GatewayModel, table=True):
    """Sign-in attempts for one username from one address (whether or not the account exists,
    so that unknown names behave exactly like real ones): failures since the last success, the
    growing wait they earned, and when this address last signed in (the user's usual address)."""

    __tablename__ = "login_throttle"
    __table_args__ = (UniqueConstraint("username", "address", name="uq_login_throttle_username_address"),)

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=64, index=True)
    address: str = Field(max_length=64)
    failures: int = 0
    last_failure_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    blocked_until: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_success_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)


class RefreshToken(GatewayModel, table=True):
    """One issued refresh token (by hashed jti); a family is one login's rotation chain."""

    __tablename__ = "refresh_token"

    jti_hash: str = Field(primary_key=True, max_length=64)
    family: str = Field(max_length=64, index=True)
    username: str = Field(max_length=64, index=True)
    issued_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: dt.datetime = Field(sa_type=UTCDateTime)
    used_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)


class MfaFactor(GatewayModel, table=True):
    """A staff member's TOTP authenticator (RFC 6238). The secret is personal security data:
    AES-GCM ciphertext under the gateway's PII keys (``identity.mfa``). ``confirmed_at`` None:
    enrolled but not yet confirmed with a code (sign-in does not ask for it yet). ``last_step``:
    the newest time step a code was accepted for, so a code cannot be used twice."""

    __tablename__ = "mfa_factor"

    username: str = Field(primary_key=True, max_length=64)
    secret_cipher: str = Field(max_length=255)
    confirmed_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_step: int = 0
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class MfaRecoveryCode(GatewayModel, table=True):
    """One of a staff member's ten one-time recovery codes, by hash (shown once at confirmation)."""

    __tablename__ = "mfa_recovery_code"

    code_hash: str = Field(primary_key=True, max_length=64)
    username: str = Field(max_length=64, index=True)
    used_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)


class LoginSession(GatewayModel, table=True):
    """One sign-in as its holder sees it: the refresh-token family (``id`` = the family), on which
    device (labels the client sends), since when, last seen when and from where. Ending it revokes
    the family: its next refresh fails at once; its access token lives to its expiry (≤ 15 min)."""

    __tablename__ = "login_session"

    id: str = Field(primary_key=True, max_length=64)
    username: str = Field(max_length=64, index=True)
    device_id: str | None = Field(default=None, max_length=64)
    device_name: str | None = Field(default=None, max_length=100)
    first_address: str | None = Field(default=None, max_length=64)
    last_address: str | None = Field(default=None, max_length=64)
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_seen_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: dt.datetime = Field(sa_type=UTCDateTime)
    revoked_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
