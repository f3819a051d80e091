"""Gateway API shapes."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class TokenResponse(BaseModel):
    access_token: str
    token_type: str = "bearer"  # noqa: S105
    expires_in: int
    refresh_token: str | None = None
    scope: str | None = None


class Me(BaseModel):
    subject: str = Field(description="Username for staff, client id for machine clients")
    kind: str
    name: str
    roles: list[str]
    scopes: list[str]
    permissions: list[str]
    community: str | None
    grid: str | None
    communities: list[str]
    expires_at: float


class GridRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    name: str
    number: int


class CommunityRead(BaseModel):
    code: str
    name: str
    placeholder: bool
    grids: list[GridRead]


class UserRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    username: str
    display_name: str
    roles: list[str]
    community: str | None
    grid: str | None
    active: bool
