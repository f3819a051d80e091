"""Tips tables: practical tips (实战窍门) on items, and morning briefings (晨会) with their
attendees."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Column, Index
from sqlmodel import Field

from doorstep_shared.clock import utcnow
from doorstep_shared.db import JSONType, UTCDateTime

from ..db import CatalogModel


class Tip(CatalogModel, table=True):
    """A practical tip (实战窍门) a staff member left on an item."""

    __tablename__ = "tip"

    id: int | None = Field(default=None, primary_key=True)
    item_id: int = Field(foreign_key="item.id", index=True)
    body: str = Field(max_length=500)
    author: str = Field(max_length=100)
    community: str | None = Field(default=None, max_length=64)
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    hidden: bool = Field(default=False)
    hidden_by: str | None = Field(default=None, max_length=100)
    hidden_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    hidden_reason: str | None = Field(default=None, max_length=200)


class Briefing(CatalogModel, table=True):
    """A morning briefing (晨会) of one community on one date."""

    __tablename__ = "briefing"
    __table_args__ = (Index("ix_briefing_community_held_at", "community", "held_at"),)

    id: int | None = Field(default=None, primary_key=True)
    community: str = Field(max_length=64)
    held_on: dt.date
    held_at: dt.datetime = Field(sa_type=UTCDateTime)
    title: str = Field(default="", max_length=100)
    agenda: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSONType, nullable=False))
    tip_ids: list[int] = Field(default_factory=list, sa_column=Column(JSONType, nullable=False))
    created_by: str = Field(max_length=100)
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class BriefingAttendee(CatalogModel, table=True):
    __tablename__ = "briefing_attendee"

    briefing_id: int = Field(foreign_key="briefing.id", primary_key=True)
    username: str = Field(max_length=100, primary_key=True, index=True)
