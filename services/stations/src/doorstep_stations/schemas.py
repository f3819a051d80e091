"""Stations API shapes."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class StationRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    name: str
    community: str
    compound: str
