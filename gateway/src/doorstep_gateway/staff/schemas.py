"""Staff API shapes: what an admin sends to create or change an account, and what is shown."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator

from doorstep_shared.auth.permissions import Role

Code = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9_.-]*$")]
USERNAME_PATTERN = r"^[a-z0-9][a-z0-9._-]{2,63}$"


def _known_roles(roles: list[str]) -> list[str]:
    unknown = sorted(set(roles) - {r.value for r in Role})
    if unknown:
        raise ValueError(f"unknown roles: {', '.join(unknown)} (known: {', '.join(sorted(r.value for r in Role))})")
    return sorted(set(roles))


class StaffCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "username": "chaoyang.worker2",
                    "display_name": "王晓燕",
                    "phone": "13800005678",
                    "roles": ["social_worker"],
                    "community": "chaoyang",
                    "grid": "chaoyang-g6",
                }
            ]
        },
    )

    username: str = Field(pattern=USERNAME_PATTERN, description="Lower-case letters, digits, . _ -; 3-64")
    display_name: str = Field(min_length=1, max_length=100)
    phone: str | None = Field(default=None, max_length=32, description="Stored encrypted, shown masked")
    roles: list[Annotated[str, Field(max_length=40)]] = Field(min_length=1, max_length=6)
    county: Code | None = Field(default=None, description="Default: the caller's county")
    community: Code | None = Field(default=None, description="Required for community roles")
    grid: Code | None = None
    stations: list[Code] = Field(default_factory=list, max_length=50, description="Station codes a keeper runs")

    _roles = field_validator("roles")(_known_roles)


class StaffUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"grid": "chaoyang-g5"}]})

    roles: list[Annotated[str, Field(max_length=40)]] | None = Field(default=None, min_length=1, max_length=6)
    grid: Code | None = None
    stations: list[Code] | None = Field(default=None, max_length=50)
    display_name: str | None = Field(default=None, min_length=1, max_length=100)

    @field_validator("roles")
    @classmethod
    def _roles(cls, roles: list[str] | None) -> list[str] | None:
        return None if roles is None else _known_roles(roles)


class StaffRead(BaseModel):
    model_config = ConfigDict(from_attributes=True, populate_by_name=True)

    username: str
    display_name: str
    roles: list[str]
    county: str | None
    community: str | None
    grid: str | None
    stations: list[str]
    phone: str | None = Field(validation_alias="phone_masked", description="Masked (138****5678)")
    active: bool
    password_set: bool = Field(description="False until the holder activates the account")
    activation_expires_at: dt.datetime | None
    created_at: dt.datetime


class StaffWithCode(StaffRead):
    activation_code: str = Field(
        description="Shown once: give it to the person, who sets their password with POST /api/v1/auth/activate "
        "within 72 hours. Only a hash is kept."
    )


@dataclass(frozen=True)
class StaffScope:
    """Which accounts a caller manages: one county (None: the deployment's single county), within
    it one community or all; ``county_admins_only`` for the platform admin (any county)."""

    county: str | None
    community: str | None = None
    county_admins_only: bool = False


@dataclass(frozen=True)
class StaffFilter:
    community: str | None = None
    grid: str | None = None
    role: str | None = None
    active: bool | None = None
