"""The workers' tables: a staff user's field profile and the grids they serve."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Column, ForeignKey
from sqlmodel import Field

from doorstep_shared.db import JSONType, UTCDateTime

from ..db import ProxyModel


class WorkerProfile(ProxyModel, table=True):
    """A staff user's field profile (代办人员): grids, item categories known, availability."""

    __tablename__ = "worker_profile"

    username: str = Field(primary_key=True, max_length=64)
    display_name: str = Field(max_length=50)
    community: str = Field(max_length=64, index=True)
    status: str = Field(default="active", max_length=16)  # active | on_leave
    categories: list[str] = Field(default_factory=list, sa_type=JSONType)
    phone_enc: str | None = Field(default=None, max_length=255)
    version: int = 1
    row_version: int = Field(default=0, index=True)
    updated_at: dt.datetime = Field(sa_type=UTCDateTime)


class WorkerGrid(ProxyModel, table=True):
    """Which grids a worker serves: the team of a grid is the workers listed for it."""

    __tablename__ = "worker_grid"

    username: str = Field(sa_column=Column(ForeignKey("worker_profile.username", ondelete="CASCADE"), primary_key=True))
    grid: str = Field(primary_key=True, max_length=64, index=True)
