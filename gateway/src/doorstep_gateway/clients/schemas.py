"""Machine client API shapes: registration, what is shown of a client, secret rotation."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, IPvAnyNetwork, field_validator

from doorstep_shared.auth.permissions import CLIENT_SCOPES

from .models import ApiClient

ScopeName = Annotated[str, Field(max_length=40)]


class ClientCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "name": "12345 政务服务便民热线",
                    "scopes": ["catalog:read", "demands:read", "demands:write"],
                    "communities": ["chaoyang", "zhenhuai"],
                    "contact": "热线平台运维组",
                    "ip_allowlist": ["10.20.0.0/16"],
                    "quota_per_minute": 600,
                }
            ]
        },
    )

    name: str = Field(min_length=1, max_length=100)
    scopes: list[ScopeName] = Field(min_length=1, max_length=len(CLIENT_SCOPES))
    communities: list[Annotated[str, Field(max_length=64)]] = Field(
        default_factory=list, max_length=20, description="Communities it may act in; empty: all"
    )
    contact: str = Field(default="", max_length=200)
    ip_allowlist: list[IPvAnyNetwork] = Field(default_factory=list, max_length=50)
    quota_per_minute: int = Field(default=600, ge=1, le=100_000)

    @field_validator("scopes")
    @classmethod
    def _scopes(cls, scopes: list[str]) -> list[str]:
        unknown = sorted(set(scopes) - set(CLIENT_SCOPES))
        if unknown:
            raise ValueError(
                f"not grantable to clients: {', '.join(unknown)} (allowed: {', '.join(sorted(CLIENT_SCOPES))})"
            )
        return sorted(set(scopes))

    @field_validator("communities")
    @classmethod
    def _communities(cls, communities: list[str]) -> list[str]:
        return sorted(set(communities))  # each must be in the directory: checked by the service


class ClientRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    client_id: str
    name: str
    scopes: list[str]
    communities: list[str]
    contact: str
    ip_allowlist: list[str]
    quota_per_minute: int
    active: bool
    created_by: str
    created_at: dt.datetime
    revoked_at: dt.datetime | None
    previous_secret_expires_at: dt.datetime | None
    api_key_id: str | None = Field(description="Lookup id of its Open311 API key (not the key), if one was issued")
    api_key_issued_at: dt.datetime | None


class ClientWithSecret(ClientRead):
    client_secret: str = Field(description="Shown once; store it now. Only a hash is kept.")

    @classmethod
    def of(cls, client: ApiClient, secret: str) -> ClientWithSecret:
        return cls(**ClientRead.model_validate(client).model_dump(), client_secret=secret)


class ClientWithApiKey(ClientRead):
    api_key: str = Field(description="Shown once; store it now. Only its SHA-256 is kept.")

    @classmethod
    def of(cls, client: ApiClient, key: str) -> ClientWithApiKey:
        return cls(**ClientRead.model_validate(client).model_dump(), api_key=key)


class RotateSecret(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"grace_seconds": 3600}]})

    grace_seconds: int = Field(
        default=3600, ge=0, le=7 * 24 * 3600, description="How long the old secret keeps working"
    )
