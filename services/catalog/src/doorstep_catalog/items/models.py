"""Items tables: categories, items with their published versions, and the revision counter
every catalogue write bumps."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Column, UniqueConstraint
from sqlmodel import Field

from doorstep_shared.clock import utcnow
from doorstep_shared.db import JSONType, UTCDateTime

from ..db import CatalogModel


class Category(CatalogModel, table=True):
    __tablename__ = "category"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=64, unique=True)
    name: str = Field(max_length=100)
    description: str = Field(default="", max_length=1000)
    position: int = Field(default=0)
    version: int = Field(default=1)


class Item(CatalogModel, table=True):
    """One service item (事项) of one county's handbook. ``content`` holds every descriptive
    field (see ``ItemContent``); the columns beside it are what queries filter on. Codes are
    unique per county: two counties may both have ``elderly-allowance``."""

    __tablename__ = "item"
    __table_args__ = (UniqueConstraint("county", "code"),)

    id: int | None = Field(default=None, primary_key=True)
    # The county whose handbook this is ('' only for rows from before counties, until the
    # directory names the deployment's one county: see ``items.service.claim_unassigned``).
    county: str = Field(default="", max_length=64, index=True)
    code: str = Field(max_length=64)
    name: str = Field(max_length=100)
    category_id: int = Field(foreign_key="category.id", index=True)
    status: str = Field(max_length=16, index=True)  # draft | published | retired
    proxy_eligible: bool = Field(default=False)
    channel_tags: str = Field(default="", max_length=100)  # ",window,doorstep," for LIKE filters
    content: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONType, nullable=False))
    version: int = Field(default=1)  # bumps on every edit: the ETag / If-Match version
    published_version: int = Field(default=0)  # number of the latest ItemVersion (0: never)
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_by: str = Field(default="", max_length=100)


class ItemVersion(CatalogModel, table=True):
    """A published state of an item: who, when, why, the full snapshot and what changed."""

    __tablename__ = "item_version"
    __table_args__ = (UniqueConstraint("item_id", "number"),)

    id: int | None = Field(default=None, primary_key=True)  # the changes feed's cursor
    item_id: int = Field(foreign_key="item.id")
    number: int
    status: str = Field(max_length=16)
    kind: str = Field(max_length=16)  # created | updated | retired | republished
    reason: str = Field(default="", max_length=500)
    changed_by: str = Field(max_length=100)
    changed_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    changed_fields: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSONType, nullable=False))
    snapshot: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONType, nullable=False))


class CatalogRevision(CatalogModel, table=True):
    """One row: a counter bumped by every catalogue write, so replicas know when to rebuild
    their in-memory search index; ``epoch`` changes if the row is ever recreated."""

    __tablename__ = "catalog_state"

    id: int = Field(default=1, primary_key=True)
    epoch: str = Field(max_length=32)
    revision: int = Field(default=0)
