"""API shapes of the survey import: the per-row report."""

from __future__ import annotations

import uuid
from typing import Literal

from pydantic import BaseModel, Field

ImportMode = Literal["all_or_nothing", "valid_rows"]


class RowError(BaseModel):
    column: str = Field(description="The sheet's column header, e.g. 身份证号")
    message: str


class ImportRowResult(BaseModel):
    row: int = Field(description="Line in the sheet (the header is line 1)")
    status: Literal["created", "updated", "unchanged", "rejected"]
    resident_id: uuid.UUID | None = None
    errors: list[RowError] = Field(default_factory=list)


class ImportReport(BaseModel):
    mode: ImportMode
    applied: bool = Field(description="False when all-or-nothing found a rejected row")
    total: int
    created: int
    updated: int
    unchanged: int
    rejected: int
    ignored_columns: list[str]
    rows: list[ImportRowResult]
