"""API shapes for cases, materials, visits, "my day" and sync."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints, model_validator

from doorstep_shared.types import LocalTime, RedactedText

from ..demands.schemas import DemandRead
from ..inputs import Code, Input
from ..ledger.schemas import CompoundRead, HouseholdRead, ResidentBrief, ResidentRead
from ..workers.schemas import Username

CaseChannel = Literal["window", "doorstep", "platform"]
CaseStatus = Literal[
    "accepted",
    "scheduled",
    "visited",
    "materials_complete",
    "filed",
    "approved",
    "rejected",
    "closed",
    "withdrawn",
]
Collected = Literal["original_seen", "copy_taken", "electronic"]
Outcome = Literal["done", "nobody_home", "come_back"]
VisitStatus = Literal["planned", "checked_in", "done", "nobody_home", "come_back"]
Note = Annotated[str, StringConstraints(strip_whitespace=True, max_length=1000)]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=500)]


# --- cases --------------------------------------------------------------------------------


class CaseCreate(Input):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "resident_id": "7f0c2b1e-3d4a-4b5c-9e8f-0a1b2c3d4e5f",
                    "item_code": "elderly-allowance",
                    "channel": "doorstep",
                    "demand_id": "c3a9e7d1-2b4f-4e6a-8c0d-9f1e2a3b4c5d",
                    "keep": False,
                    "note": "老人行动不便，家属希望上午上门",
                }
            ]
        }
    )

    id: uuid.UUID | None = Field(None, description="Client-generated UUID (offline phones); default: the server's")
    resident_id: uuid.UUID
    item_code: Code
    channel: CaseChannel
    demand_id: uuid.UUID | None = Field(None, description="The consultation/request this case came from")
    keep: bool = Field(False, description="Keep the case with the accepting worker instead of the resident's grid team")
    note: Note | None = None


class CaseTransition(Input):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"to": "filed", "department_ref": "MZ-2026-1102", "note": "材料已交县民政局"}]}
    )

    to: CaseStatus
    note: Note | None = None
    department_ref: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)] | None = (
        Field(None, description="The department's reference; required when filing")
    )


class CaseAssign(Input):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "assigned_to": "chaoyang.worker",
                    "assigned_grid": "chaoyang-g6",
                    "reason": "原经办人休假，转交本网格社工",
                }
            ]
        }
    )

    assigned_to: Username | None = Field(None, description="A worker of the community; null: the grid's team")
    assigned_grid: Code | None = Field(None, description="Default: the resident's grid")
    reason: Reason


class CaseDueOverride(Input):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"due_date": "2026-12-15", "reason": "县民政局系统升级，受理顺延"}]}
    )

    due_date: dt.date
    reason: Reason


class MaterialMark(Input):
    model_config = ConfigDict(json_schema_extra={"examples": [{"collected": "copy_taken"}]})

    collected: Collected | None = Field(description="How it was collected; null un-ticks it")


class MaterialRead(BaseModel):
    position: int
    name: str
    form: str
    count: int
    collectable_at_home: bool
    collected: Collected | None
    collected_by: str | None
    collected_at: dt.datetime | None


class SnapshotMaterial(BaseModel):
    name: str
    form: str = "copy"
    count: int = 1
    notes: str = ""
    collectable_at_home: bool = True
    evidence: str | None = None  # "photo": ticking it collected needs an uploaded file


class SnapshotStep(BaseModel):
    title: str
    detail: str = ""


class ItemSnapshot(BaseModel):
    """The catalogue item as it was when the case was accepted."""

    code: str
    name: str
    category: str = ""
    version: int = 1
    materials: list[SnapshotMaterial] = Field(default_factory=list)
    steps: list[SnapshotStep] = Field(default_factory=list)
    statutory_days: int | None = None
    promised_days: int | None = None
    department: str = ""
    contact: str = ""


class CaseRead(BaseModel):
    id: uuid.UUID
    resident_id: uuid.UUID
    resident: ResidentBrief | None = None
    household_id: uuid.UUID | None
    community: str
    grid: str
    item_code: str
    item_name: str
    snapshot: ItemSnapshot
    catalog_revision: int
    channel: CaseChannel
    demand_id: uuid.UUID | None
    status: CaseStatus
    allowed_next: list[CaseStatus]
    accepted_by: str
    accepted_at: dt.datetime
    assigned_grid: str | None
    assigned_to: str | None
    department_ref: str | None
    filed_at: dt.datetime | None
    decided_at: dt.datetime | None
    closed_at: dt.datetime | None
    due_date: dt.date | None
    due_basis: str | None
    due_override_reason: RedactedText | None
    overdue: bool
    due_soon: bool
    materials: list[MaterialRead]
    materials_complete: bool
    materials_missing: list[str]
    note: RedactedText | None
    version: int
    row_version: int
    created_at: dt.datetime
    updated_at: dt.datetime


class CaseEventRead(BaseModel):
    id: int
    at: dt.datetime
    actor: str
    kind: str
    from_status: str | None
    to_status: str | None
    note: RedactedText | None
    details: dict[str, Any]


@dataclass
class CaseQuery:
    """What a case list asks for (built by the router and the service, read by the repository)."""

    status: str | None = None
    open_only: bool = False
    community: str | None = None
    grid: str | None = None
    assigned_to: str | None = None
    accepted_by: str | None = None
    item_code: str | None = None
    channel: str | None = None
    resident_id: uuid.UUID | None = None
    due_before: dt.date | None = None  # overdue: due_date < this
    due_until: dt.date | None = None  # due soon: due_date <= this (and not overdue)
    due_from: dt.date | None = None


# --- visits -------------------------------------------------------------------------------


class VisitCreate(Input):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "case_ids": ["5b1f3c2a-8d4e-4f6a-9b7c-1e2d3f4a5b6c"],
                    "planned_date": "2026-11-05",
                    "window_start": "09:00",
                    "window_end": "10:30",
                    "worker": "chaoyang.worker",
                    "notes": "先电话确认老人在家",
                }
            ]
        }
    )

    id: uuid.UUID | None = Field(None, description="Client-generated UUID (offline phones)")
    case_ids: list[uuid.UUID] = Field(min_length=1, max_length=20, description="Cases of one household")
    planned_date: dt.date
    window_start: LocalTime | None = None
    window_end: LocalTime | None = None
    worker: Username | None = Field(None, description="Default: you")
    notes: Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)] | None = None

    @model_validator(mode="after")
    def _window(self) -> VisitCreate:
        if self.window_start and self.window_end and self.window_end <= self.window_start:
            raise ValueError("window_end must be after window_start")
        return self


class VisitUpdate(Input):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"planned_date": "2026-11-06", "window_start": "14:00", "window_end": "15:00"}]}
    )

    planned_date: dt.date | None = None
    window_start: LocalTime | None = None
    window_end: LocalTime | None = None
    worker: Username | None = None
    notes: Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)] | None = None
    follow_up_date: dt.date | None = None


class VisitCheckIn(Input):
    model_config = ConfigDict(json_schema_extra={"examples": [{"at": "2026-11-05T09:12:00+08:00"}]})

    at: AwareDatetime | None = Field(None, description="The phone's time of arrival (default: now)")


class VisitCheckOut(Input):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "at": "2026-11-05T09:48:00+08:00",
                    "outcome": "done",
                    "follow_up_date": "2026-12-05",
                    "notes": "材料已收齐，老人签字确认",
                }
            ]
        }
    )

    at: AwareDatetime | None = Field(None, description="The phone's time of leaving (default: now)")
    outcome: Outcome
    come_back_date: dt.date | None = Field(None, description="Required when the outcome is come_back")
    follow_up_date: dt.date | None = None
    notes: Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)] | None = None


class VisitCaseRead(BaseModel):
    id: uuid.UUID
    item_code: str
    item_name: str
    status: CaseStatus
    materials_missing: list[str]


class VisitRead(BaseModel):
    id: uuid.UUID
    community: str
    grid: str
    resident: ResidentBrief
    household_id: uuid.UUID | None
    worker: str
    planned_date: dt.date
    window_start: LocalTime | None
    window_end: LocalTime | None
    status: VisitStatus
    check_in_at: dt.datetime | None
    check_out_at: dt.datetime | None
    outcome: Outcome | None
    come_back_date: dt.date | None
    follow_up_date: dt.date | None
    notes: RedactedText | None
    cases: list[VisitCaseRead]
    version: int
    row_version: int
    created_at: dt.datetime
    updated_at: dt.datetime


class DayPlan(BaseModel):
    date: dt.date
    worker: str
    visits: list[VisitRead]


class WeekPlan(BaseModel):
    worker: str
    start: dt.date
    days: list[DayPlan]


# --- sync ---------------------------------------------------------------------------------


class Tombstone(BaseModel):
    entity: Literal["compound", "resident", "household", "case", "visit", "demand"]
    id: str = Field(description="The record's id (a compound's code)")
    row_version: int


class SyncPage(BaseModel):
    cursor: str = Field(description="Pass as `since` next time (also when has_more is false)")
    has_more: bool
    scope: Literal["mine", "grid", "community"] = Field(description="The scope this page was cut for")
    compounds: list[CompoundRead] = Field(default_factory=list)
    residents: list[ResidentRead] = Field(default_factory=list)
    households: list[HouseholdRead] = Field(default_factory=list)
    cases: list[CaseRead] = Field(default_factory=list)
    visits: list[VisitRead] = Field(default_factory=list)
    demands: list[DemandRead] = Field(default_factory=list)
    tombstones: list[Tombstone] = Field(default_factory=list)
