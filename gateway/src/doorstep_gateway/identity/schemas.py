"""Identity API shapes: the token endpoint's answer and who-am-I."""

from __future__ import annotations

from pydantic import BaseModel, Field


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
