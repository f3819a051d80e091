"""Directory tables: counties → communities → grids → compounds, each active from/to, and the
history of every change (one row per record changed: what, which fields, who, when)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import BigInteger, Column
from sqlmodel import Field

from doorstep_shared.clock import utcnow
from doorstep_shared.db import BigIntId, JSONType, UTCDateTime

from ..db import GatewayModel


class County(GatewayModel, table=True):
    __tablename__ = "county"

    code: str = Field(primary_key=True, max_length=64)
    name: str = Field(max_length=100)
    active_from: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    active_to: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)


class Community(GatewayModel, table=True):
    __tablename__ = "community"

    code: str = Field(primary_key=True, max_length=64)
    name: str = Field(max_length=100)
    # Null only for communities stored before counties existed; the first import that names
    # the community places it in its county.
    county: str | None = Field(default=None, foreign_key="county.code", max_length=64, index=True)
    placeholder: bool = False
    active_from: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    active_to: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)


class Grid(GatewayModel, table=True):
    __tablename__ = "grid"

    code: str = Field(primary_key=True, max_length=64)
    community: str = Field(foreign_key="community.code", max_length=64, index=True)
    name: str = Field(max_length=100)
    number: int
    active_from: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    active_to: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)


class Compound(GatewayModel, table=True):
    __tablename__ = "compound"

    code: str = Field(primary_key=True, max_length=64)
    name: str = Field(max_length=100)
    community: str = Field(foreign_key="community.code", max_length=64, index=True)
    grid: str = Field(foreign_key="grid.code", max_length=64, index=True)
    address: str = Field(default="", max_length=200)
    latitude: float | None = None
    longitude: float | None = None
    buildings: int | None = None
    households: int | None = None
    placeholder: bool = False
    active_from: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    active_to: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)


class DirectoryChange(GatewayModel, table=True):
    """One change to one record: created, updated (``changes`` = field → [before, after])."""

    __tablename__ = "directory_change"

    id: int | None = Field(default=None, sa_type=BigIntId, primary_key=True)
    kind: str = Field(max_length=16)
    code: str = Field(max_length=64, index=True)
    action: str = Field(max_length=16)
    changes: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONType, nullable=False))
    actor: str = Field(max_length=64)
    source: str = Field(default="api", max_length=16)  # api | import | seed
    at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class DirectoryGeneration(GatewayModel, table=True):
    """One row, changed by every directory write in its transaction (and locked by it first):
    its (generation, changed_at) moves with each committed write, in commit order, so a replica
    rebuilds its copy whenever the stored directory moved (ids of history rows can commit out of
    order)."""

    __tablename__ = "directory_generation"

    id: int = Field(default=1, primary_key=True)
    generation: int = Field(default=0, sa_type=BigInteger)
    changed_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
