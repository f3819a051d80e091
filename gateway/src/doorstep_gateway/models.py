"""Gateway tables: the org directory, staff users, refresh tokens and machine clients."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Column
from sqlmodel import Field, SQLModel

from doorstep_shared.audit import AuditLog, audit_tables
from doorstep_shared.clock import utcnow
from doorstep_shared.db import JSONType, UTCDateTime, new_registry


class GatewayModel(SQLModel, registry=new_registry()):
    pass


metadata = GatewayModel.metadata


class Community(GatewayModel, table=True):
    __tablename__ = "community"

    code: str = Field(primary_key=True, max_length=64)
    name: str = Field(max_length=100)
    placeholder: bool = False


class Grid(GatewayModel, table=True):
    __tablename__ = "grid"

    code: str = Field(primary_key=True, max_length=64)
    community: str = Field(foreign_key="community.code", max_length=64, index=True)
    name: str = Field(max_length=100)
    number: int


class User(GatewayModel, table=True):
    __tablename__ = "user_account"

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=64, unique=True)
    display_name: str = Field(max_length=100)
    password_hash: str = Field(max_length=255)
    roles: list[str] = Field(default_factory=list, sa_column=Column(JSONType, nullable=False))
    community: str | None = Field(default=None, foreign_key="community.code", max_length=64)
    grid: str | None = Field(default=None, foreign_key="grid.code", max_length=64)
    active: bool = True
    failed_logins: int = 0
    locked_until: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


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


class ApiClient(GatewayModel, table=True):
    """A third-party platform with OAuth2 client credentials and narrow scopes."""

    __tablename__ = "api_client"

    client_id: str = Field(primary_key=True, max_length=64)
    name: str = Field(max_length=100)
    secret_hash: str = Field(max_length=255)
    # During a rotation the previous secret keeps working until ``previous_secret_expires_at``.
    previous_secret_hash: str | None = Field(default=None, max_length=255)
    previous_secret_expires_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    scopes: list[str] = Field(default_factory=list, sa_column=Column(JSONType, nullable=False))
    communities: list[str] = Field(default_factory=list, sa_column=Column(JSONType, nullable=False))
    ip_allowlist: list[str] = Field(default_factory=list, sa_column=Column(JSONType, nullable=False))
    quota_per_minute: int = 600
    contact: str = Field(default="", max_length=200)
    active: bool = True
    created_by: str = Field(default="", max_length=64)
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    revoked_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)


audit_log_table, audit_head_table = audit_tables(metadata)
audit = AuditLog(audit_log_table, audit_head_table)
