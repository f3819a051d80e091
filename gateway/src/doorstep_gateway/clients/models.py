"""The machine clients' table."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Column
from sqlmodel import Field

from doorstep_shared.clock import utcnow
from doorstep_shared.db import JSONType, UTCDateTime

from ..db import GatewayModel


class ApiClient(GatewayModel, table=True):
    """A third-party platform with OAuth2 client credentials and narrow scopes."""

    __tablename__ = "api_client"

    client_id: str = Field(primary_key=True, max_length=64)
    name: str = Field(max_length=100)
    secret_hash: str = Field(max_length=255)
    # During a rotation the previous secret keeps working until ``previous_secret_expires_at``.
    previous_secret_hash: str | None = Field(default=None, max_length=255)
    previous_secret_expires_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Its Open311 api_key, if issued: the key's public lookup id (indexed) and the SHA-256 of the
    # whole key (clients.service.API_KEY_HASH says why a fast hash is enough for this key).
    api_key_id: str | None = Field(default=None, max_length=32, unique=True)
    api_key_hash: str | None = Field(default=None, max_length=64)
    api_key_issued_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    scopes: list[str] = Field(default_factory=list, sa_column=Column(JSONType, nullable=False))
    communities: list[str] = Field(default_factory=list, sa_column=Column(JSONType, nullable=False))
    ip_allowlist: list[str] = Field(default_factory=list, sa_column=Column(JSONType, nullable=False))
    quota_per_minute: int = 600
    contact: str = Field(default="", max_length=200)
    active: bool = True
    created_by: str = Field(default="", max_length=64)
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    revoked_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
