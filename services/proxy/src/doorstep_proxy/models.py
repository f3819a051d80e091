"""Proxy (doorstep service) tables."""

from __future__ import annotations

from sqlmodel import Field

from doorstep_shared.db import make_model_base

ProxyModel = make_model_base("ProxyModel")
metadata = ProxyModel.metadata


class Compound(ProxyModel, table=True):
    """A residential compound (小区) of a community's grid."""

    __tablename__ = "compound"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=64, unique=True)
    name: str = Field(max_length=100)
    community: str = Field(max_length=64, index=True)
    grid: str = Field(max_length=64, index=True)
    buildings: int = 0
    households: int = 0
