"""Directory tables: the county's communities and their grids."""

from __future__ import annotations

from sqlmodel import Field

from ..db import GatewayModel


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
