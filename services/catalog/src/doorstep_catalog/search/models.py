"""Search tables: one row per search (for misses and popularity) and the synonym groups."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Index
from sqlmodel import Field

from doorstep_shared.clock import utcnow
from doorstep_shared.db import UTCDateTime

from ..db import CatalogModel


class SearchEvent(CatalogModel, table=True):
    """A search someone ran (first page only) and, if reported, the item they opened from it.
    The query is stored redacted (ID and phone numbers masked); no user name is kept, only the
    community (and the county whose handbook was searched), so a community admin sees their
    community's misses and a county admin their county's."""

    __tablename__ = "search_event"
    __table_args__ = (Index("ix_search_event_at_normalised", "at", "normalised"),)

    id: str = Field(primary_key=True, max_length=32)
    at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    community: str | None = Field(default=None, max_length=64)
    county: str | None = Field(default=None, max_length=64)  # whose handbook was searched
    query: str = Field(max_length=200)
    normalised: str = Field(max_length=200)
    hits: int = 0
    top_code: str | None = Field(default=None, max_length=64)
    opened_code: str | None = Field(default=None, max_length=64, index=True)
    opened_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    resolved_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)


class SearchSynonym(CatalogModel, table=True):
    """A group of words searched as one another (老人 老年人 高龄): data, not code."""

    __tablename__ = "search_synonym"

    id: int | None = Field(default=None, primary_key=True)
    words: str = Field(max_length=500)  # space-separated
