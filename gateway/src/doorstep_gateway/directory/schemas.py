"""Directory API shapes: communities with their grids, and staff users."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


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
