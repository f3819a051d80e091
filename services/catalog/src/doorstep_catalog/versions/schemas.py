"""Versions API shapes: an item's published versions, what changed field by field, the changes
feed."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, Field

from doorstep_shared.types import RedactedText

from ..items.schemas import ItemRead, Status


class FieldChange(BaseModel):
    field: str
    label: str
    before: Any = None
    after: Any = None


class VersionSummary(BaseModel):
    number: int
    status: Status
    kind: str
    reason: RedactedText
    changed_by: str
    changed_at: dt.datetime
    changed_fields: list[FieldChange]


class VersionRead(VersionSummary):
    item: ItemRead


class VersionPage(BaseModel):
    items: list[VersionSummary]
    next_cursor: str | None = None


class ChangeRead(BaseModel):
    cursor: str
    item_code: str
    item_name: str
    number: int
    status: Status
    kind: str
    reason: RedactedText
    changed_by: str
    changed_at: dt.datetime
    changed_fields: list[FieldChange]


class ChangesPage(BaseModel):
    items: list[ChangeRead]
    next_cursor: str | None = Field(description="Pass as `since` next time (also when nothing changed)")
    has_more: bool
