"""Stations tables."""

from __future__ import annotations

from sqlmodel import Field

from doorstep_shared.db import make_model_base

StationsModel = make_model_base("StationsModel")
metadata = StationsModel.metadata


class Station(StationsModel, table=True):
    """A party-mass service station (党群驿站), one per compound."""

    __tablename__ = "station"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=64, unique=True)
    name: str = Field(max_length=100)
    community: str = Field(max_length=64, index=True)
    compound: str = Field(max_length=64)
