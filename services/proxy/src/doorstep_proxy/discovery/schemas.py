"""Discovery API shapes: leads, lead actions, runs, explanations, coming-due and survey lists."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from doorstep_shared.types import RedactedText

from ..inputs import Input
from ..ledger.schemas import ResidentAddress

LeadStatus = Literal["new", "contacted", "declined", "converted", "obsolete"]
Verdict = Literal["eligible", "unknown"]


class LeadMaterialRead(BaseModel):
    name: str
    form: str
    count: int
    notes: str = ""


class LeadRead(BaseModel):
    id: int
    resident_id: uuid.UUID
    resident_name: str = Field(description="As `GET /residents/{id}` shows it to the caller")
    phone_masked: str | None
    age: int = Field(description="Whole years today (Asia/Shanghai), from the birth date")
    gender: Literal["male", "female"]
    address: ResidentAddress = Field(description="As `GET /residents/{id}` shows it to the caller")
    compound: str
    building: str
    unit: str
    room: str
    community: str
    grid: str
    item_code: str
    item_name: str
    proxy_eligible: bool
    verdict: Verdict
    status: LeadStatus
    reason: str = Field(description="Why, in plain words (e.g. 年满80周岁，本县户籍，未领取高龄补贴)")
    reasons: list[str]
    missing_facts: list[str]
    missing_labels: list[str]
    materials: list[LeadMaterialRead]
    declined_reason: RedactedText | None
    case_id: uuid.UUID | None
    first_seen_at: dt.datetime
    last_confirmed_at: dt.datetime
    status_changed_at: dt.datetime | None
    status_by: str | None
    version: int


class LeadContacted(Input):
    model_config = ConfigDict(json_schema_extra={"examples": [{"note": "已电话联系家属，约下周上门"}]})

    note: str | None = Field(default=None, max_length=500)


class LeadDeclined(Input):
    model_config = ConfigDict(json_schema_extra={"examples": [{"reason": "暂不需要"}]})

    reason: str = Field(min_length=2, max_length=500, description="What the resident said (e.g. 暂不需要)")


class LeadConversion(Input):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"channel": "doorstep", "note": "家属同意代办，约周三上午上门"}]}
    )

    channel: Literal["doorstep", "window"] = "doorstep"
    case_id: uuid.UUID | None = Field(default=None, description="Client-generated case id (optional)")
    note: str | None = Field(default=None, max_length=1000)


class ConversionRead(BaseModel):
    lead: LeadRead
    case_id: uuid.UUID
    case_status: str
    materials: list[str]


class ItemFigure(BaseModel):
    item_code: str
    item_name: str
    eligible: int
    unknown: int
    converted: int
    declined: int


class LeadFigures(BaseModel):
    found: int = Field(description="Open leads: eligible, new or contacted")
    needs_survey: int = Field(description="Open leads whose verdict is unknown")
    contacted: int
    declined: int
    converted: int
    obsolete: int
    by_item: list[ItemFigure]


class EligibilityItem(BaseModel):
    code: str
    name: str
    status: Literal["eligible", "not_eligible", "unknown"]
    reasons: list[str]
    missing_facts: list[str]
    missing_labels: list[str]
    receives: bool = Field(description="Already receives this item (resident_benefit)")
    open_case: bool = Field(description="Has an open case for this item")


class EligibilityRead(BaseModel):
    resident_id: uuid.UUID
    evaluated_on: dt.date
    catalog_revision: int
    results: list[EligibilityItem]
    without_rule: list[str]


class ComingDue(BaseModel):
    resident_id: uuid.UUID
    resident_name: str
    compound: str
    building: str
    unit: str
    room: str
    grid: str
    item_code: str
    item_name: str
    due_on: dt.date = Field(description="The day the resident will qualify (Asia/Shanghai)")
    turns: int = Field(description="The age reached on that day")
    reasons: list[str]


class SurveyGroup(BaseModel):
    fact: str
    label: str
    leads: int
    residents: int
    items: list[str]


class NeedsSurvey(BaseModel):
    groups: list[SurveyGroup]


class RunCreate(Input):
    model_config = ConfigDict(json_schema_extra={"examples": [{"scope": "chaoyang"}]})

    scope: str = Field(default="county", min_length=2, max_length=64, description="`county` or a community code")


class RunRead(BaseModel):
    id: int
    kind: str
    scope: str
    status: str
    catalog_revision: int
    eval_date: dt.date
    items_total: int
    items_done: int
    fallback_items: list[str] = Field(description="Items evaluated in Python (rule not pushed down to SQL)")
    eligible: int
    unknown: int
    started_by: str
    started_at: dt.datetime
    heartbeat_at: dt.datetime
    finished_at: dt.datetime | None
    resumed: int
    error: str | None
    joined: bool = Field(default=False, description="True when this start joined a run already in progress")
