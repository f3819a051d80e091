"""Proxy API shapes."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class CompoundRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    name: str
    community: str
    grid: str
    buildings: int
    households: int
