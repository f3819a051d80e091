"""Stations tables: the stations, their featured services, and the revision of what the hot reads
show (``StationsRevision``)."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import UniqueConstraint
from sqlmodel import Field

from doorstep_shared.clock import utcnow
from doorstep_shared.db import JSONType, UTCDateTime

from ..db import StationsModel


class ServiceKind(StrEnum):
    DROP_OFF = "drop_off"
    CLASS = "class"
    APPOINTMENT = "appointment"


class Station(StationsModel, table=True):
    """A party-mass service station (党群驿站), one per compound."""

    __tablename__ = "station"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=64, unique=True)
    name: str = Field(max_length=100)
    community: str = Field(max_length=64, index=True)
    compound: str = Field(max_length=64)
    address: str = Field(default="", max_length=200)
    latitude: float
    longitude: float
    keepers: list[str] = Field(default_factory=list, sa_type=JSONType)
    contact: str = Field(default="", max_length=100)
    description: str = Field(default="", max_length=1000)
    ticket_seq: int = Field(default=0)
    version: int = Field(default=1)
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class StationService(StationsModel, table=True):
    """A station's featured service: a drop-off service, a class or appointments."""

    __tablename__ = "station_service"
    __table_args__ = (UniqueConstraint("station_id", "code"),)

    id: int | None = Field(default=None, primary_key=True)
    station_id: int = Field(foreign_key="station.id", index=True)
    code: str = Field(max_length=64)
    name: str = Field(max_length=100)
    kind: str = Field(max_length=20)
    description: str = Field(default="", max_length=1000)
    featured: bool = Field(default=True)
    active: bool = Field(default=True)
    version: int = Field(default=1)
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class StationsRevision(StationsModel, table=True):
    """One row: a counter bumped in the transaction of every write that changes what the hot
    station reads show (stations, their services, opening-hours rules and exceptions), so every
    process knows when to rebuild its in-memory snapshot (``snapshot/``); ``epoch`` changes if
    the row is ever recreated (a restored or emptied database)."""

    __tablename__ = "stations_state"

    id: int = Field(default=1, primary_key=True)
    epoch: str = Field(max_length=32)
    revision: int = Field(default=0)
