"""Proxy API shapes for imports, workers, demands and figures."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints

from .inputs import Code, Input

# --- import -------------------------------------------------------------------------------


class RowError(BaseModel):
    column: str = Field(description="The sheet's column header, e.g. 身份证号")
    message: str


class ImportRowResult(BaseModel):
    row: int = Field(description="Line in the sheet (the header is line 1)")
    status: Literal["created", "updated", "unchanged", "rejected"]
    resident_id: uuid.UUID | None = None
    errors: list[RowError] = Field(default_factory=list)


class ImportReport(BaseModel):
    mode: Literal["all_or_nothing", "valid_rows"]
    applied: bool = Field(description="False when all-or-nothing found a rejected row")
    total: int
    created: int
    updated: int
    unchanged: int
    rejected: int
    ignored_columns: list[str]
    rows: list[ImportRowResult]


# --- workers ------------------------------------------------------------------------------

WorkerStatus = Literal["active", "on_leave"]
Username = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9._-]{0,63}$")]


class WorkerUpsert(Input):
    display_name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50)]
    community: Code | None = Field(None, description="Default: the caller's community")
    grids: list[Code] = Field(default_factory=list, max_length=16)
    categories: list[Code] = Field(
        default_factory=list, max_length=20, description="Catalogue category codes known well"
    )
    status: WorkerStatus = "active"


class WorkerRead(BaseModel):
    username: str
    display_name: str
    community: str
    grids: list[str]
    categories: list[str]
    status: WorkerStatus
    version: int
    updated_at: dt.datetime


class GridTeam(BaseModel):
    grid: str
    community: str
    workers: list[WorkerRead]


# --- demands ------------------------------------------------------------------------------

Channel = Literal["window", "phone", "doorstep", "hotline", "platform"]
DemandKind = Literal["consultation", "request"]
DemandStatus = Literal["open", "answered", "converted", "closed"]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]


class DemandCreate(Input):
    community: Code | None = Field(None, description="Default: the caller's community")
    grid: Code | None = None
    resident_id: uuid.UUID | None = Field(None, description="Optional: callers may stay anonymous")
    channel: Channel
    kind: DemandKind = "request"
    item_code: Code | None = None
    text: Text
    contact_name: Annotated[str, StringConstraints(strip_whitespace=True, max_length=50)] | None = None
    contact_phone: Annotated[str, StringConstraints(max_length=20)] | None = None
    external_ref: Annotated[str, StringConstraints(max_length=64)] | None = Field(
        None, description="The platform's own reference (e.g. the 12345 ticket number)"
    )
    answer: Text | None = Field(None, description="Answered on the spot: the answer given")


class DemandAnswer(Input):
    answer: Text


class DemandConvert(Input):
    case_ref: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]


class DemandClose(Input):
    note: Annotated[str, StringConstraints(max_length=500)] | None = None


class DemandRead(BaseModel):
    id: uuid.UUID
    community: str
    grid: str | None
    resident_id: uuid.UUID | None
    channel: Channel
    kind: DemandKind
    item_code: str | None
    text: str
    contact_name: str | None
    contact_phone_masked: str | None
    status: DemandStatus
    answer: str | None
    answered_at: dt.datetime | None
    answered_by: str | None
    case_ref: str | None
    logged_by: str
    source_client: str | None
    external_ref: str | None
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime


# --- figures ------------------------------------------------------------------------------


class LedgerFigures(BaseModel):
    compounds: int = 0
    households: int = 0
    residents: int = 0
    elderly_80: int = 0
    disabled: int = 0
    serious_illness: int = 0
    living_alone: int = 0
    dibao: int = 0


class GridFigures(LedgerFigures):
    community: str
    grid: str


class DemandFigures(BaseModel):
    total: int
    by_channel: dict[str, int]
    by_status: dict[str, int]


class Figures(BaseModel):
    community: str | None
    grid: str | None
    period_from: dt.date
    period_to: dt.date
    ledger: LedgerFigures
    by_grid: list[GridFigures]
    demands: DemandFigures
