"""Catalog API shapes: inputs forbid unknown fields and bound every string, number and list."""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from doorstep_shared.rules.vocabulary import DISABILITY_TYPES, EMPLOYMENT_STATUSES, GENDERS

Code = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{1,63}$", max_length=64)]
Short = Annotated[str, StringConstraints(max_length=100)]
Name = Annotated[str, StringConstraints(min_length=1, max_length=100, strip_whitespace=True)]
Status = Literal["draft", "published", "retired"]
Channel = Literal["window", "doorstep", "online"]
MAX_RULE_JSON = 8000


def _window_only() -> list[Channel]:
    return ["window"]


_CONTROL = frozenset(chr(c) for c in (*range(0x20), 0x7F)) - {"\n", "\r", "\t"}
EARLIEST = dt.date(2000, 1, 1)
LATEST = dt.date(2100, 12, 31)


def _has_control(value: Any) -> bool:
    if isinstance(value, str):
        return not _CONTROL.isdisjoint(value)
    if isinstance(value, list | tuple):
        return any(_has_control(v) for v in value)
    if isinstance(value, dict):
        return any(_has_control(k) or _has_control(v) for k, v in value.items())
    return False


class Input(BaseModel):
    """Every request body: unknown fields refused; no control characters (NUL and friends) in
    any string, so nothing the database would reject gets that far."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="after")
    @classmethod
    def _printable(cls, value: Any) -> Any:
        if _has_control(value):
            raise ValueError("control characters are not allowed")
        return value


# ---------------------------------------------------------------- categories


class CategoryRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    name: str
    description: str
    position: int
    version: int


class CategoryCreate(Input):
    code: Code
    name: Name
    description: str = Field(default="", max_length=1000)
    position: int = Field(default=0, ge=0, le=1000)


class CategoryUpdate(Input):
    name: Name | None = None
    description: str | None = Field(default=None, max_length=1000)
    position: int | None = Field(default=None, ge=0, le=1000)


# ---------------------------------------------------------------- item content


class PolicyDocument(Input):
    title: str = Field(min_length=1, max_length=200, description="文件名称")
    number: str = Field(default="", max_length=100, description="文号，如 国发〔2015〕52号")
    issuer: str = Field(default="", max_length=100, description="发文机关")
    issued_on: dt.date | None = Field(default=None, description="发文日期")


class Material(Input):
    name: str = Field(min_length=1, max_length=100)
    form: Literal["original", "copy", "electronic"] = "copy"
    count: int = Field(default=1, ge=1, le=20)
    notes: str = Field(default="", max_length=200)
    collectable_at_home: bool = Field(default=True, description="上门时可收取")


class Step(Input):
    title: str = Field(min_length=1, max_length=100)
    detail: str = Field(default="", max_length=500)


class Fee(Input):
    free: bool = True
    amount_yuan: float | None = Field(default=None, ge=0, le=1_000_000, allow_inf_nan=False)
    basis: str = Field(default="", max_length=200)


class Faq(Input):
    question: str = Field(min_length=1, max_length=200)
    answer: str = Field(min_length=1, max_length=1000)


RuleJson = dict[str, Any] | bool


class ItemFields(Input):
    """Descriptive fields of an item; every one optional so updates can reuse them."""

    aliases: list[Annotated[str, StringConstraints(min_length=1, max_length=50)]] = Field(
        default_factory=list, max_length=20, description="别名 / 关键词"
    )
    summary: str = Field(default="", max_length=1000)
    policy_basis: list[PolicyDocument] = Field(default_factory=list, max_length=20)
    audience: str = Field(default="", max_length=500, description="服务对象")
    conditions: str = Field(default="", max_length=2000, description="办理条件")
    eligibility_rule: RuleJson | None = Field(
        default=None, description="JSON Logic subset over the resident fact vocabulary"
    )
    materials: list[Material] = Field(default_factory=list, max_length=30)
    steps: list[Step] = Field(default_factory=list, max_length=20)
    statutory_days: int | None = Field(default=None, ge=0, le=365, description="法定时限（工作日）")
    promised_days: int | None = Field(default=None, ge=0, le=365, description="承诺时限（工作日）")
    fee: Fee = Field(default_factory=Fee)
    department: str = Field(default="", max_length=100, description="审批/决定部门")
    contact: str = Field(default="", max_length=100, description="咨询电话/地点")
    channels: list[Channel] = Field(default_factory=_window_only, max_length=3)
    proxy_eligible: bool = False
    trips: int = Field(default=1, ge=0, le=10, description="群众跑动次数")
    faq: list[Faq] = Field(default_factory=list, max_length=20)
    valid_from: dt.date | None = None
    valid_until: dt.date | None = None

    @field_validator("channels")
    @classmethod
    def _unique_channels(cls, v: list[str]) -> list[str]:
        return list(dict.fromkeys(v))

    @field_validator("eligibility_rule")
    @classmethod
    def _small_rule(cls, v: RuleJson | None) -> RuleJson | None:
        if v is not None and len(json.dumps(v, ensure_ascii=False)) > MAX_RULE_JSON:
            raise ValueError(f"rule longer than {MAX_RULE_JSON} characters")
        return v


CONTENT_FIELDS = tuple(ItemFields.model_fields)


class ItemCreate(ItemFields):
    code: Code = Field(description="Stable, human-readable code, e.g. elderly-allowance")
    name: Name
    category: Code
    status: Literal["draft", "published"] = "draft"


class ItemUpdate(Input):
    """Only the fields given change; ``reason`` says why (kept with the new version)."""

    reason: str = Field(min_length=1, max_length=500)
    name: Name | None = None
    category: Code | None = None
    status: Status | None = None
    aliases: list[Annotated[str, StringConstraints(min_length=1, max_length=50)]] | None = Field(
        default=None, max_length=20
    )
    summary: str | None = Field(default=None, max_length=1000)
    policy_basis: list[PolicyDocument] | None = Field(default=None, max_length=20)
    audience: str | None = Field(default=None, max_length=500)
    conditions: str | None = Field(default=None, max_length=2000)
    eligibility_rule: RuleJson | None = None
    materials: list[Material] | None = Field(default=None, max_length=30)
    steps: list[Step] | None = Field(default=None, max_length=20)
    statutory_days: int | None = Field(default=None, ge=0, le=365)
    promised_days: int | None = Field(default=None, ge=0, le=365)
    fee: Fee | None = None
    department: str | None = Field(default=None, max_length=100)
    contact: str | None = Field(default=None, max_length=100)
    channels: list[Channel] | None = Field(default=None, max_length=3)
    proxy_eligible: bool | None = None
    trips: int | None = Field(default=None, ge=0, le=10)
    faq: list[Faq] | None = Field(default=None, max_length=20)
    valid_from: dt.date | None = None
    valid_until: dt.date | None = None

    @model_validator(mode="after")
    def _small_rule(self) -> ItemUpdate:
        rule = self.eligibility_rule
        if rule is not None and len(json.dumps(rule, ensure_ascii=False)) > MAX_RULE_JSON:
            raise ValueError(f"eligibility_rule longer than {MAX_RULE_JSON} characters")
        return self


class ItemRead(BaseModel):
    code: str
    name: str
    category: str
    category_name: str
    status: Status
    version: int
    published_version: int
    updated_at: dt.datetime
    updated_by: str
    aliases: list[str]
    summary: str
    policy_basis: list[PolicyDocument]
    audience: str
    conditions: str
    eligibility_rule: RuleJson | None = None
    materials: list[Material]
    steps: list[Step]
    statutory_days: int | None = None
    promised_days: int | None = None
    fee: Fee
    department: str
    contact: str
    channels: list[str]
    proxy_eligible: bool
    trips: int
    faq: list[Faq]
    valid_from: dt.date | None = None
    valid_until: dt.date | None = None


class ItemSummary(BaseModel):
    code: str
    name: str
    category: str
    status: Status
    summary: str
    proxy_eligible: bool
    channels: list[str]
    version: int
    score: float | None = Field(default=None, description="Search rank (with q)")
    matched_field: str | None = None


class ItemPage(BaseModel):
    items: list[ItemSummary]
    next_cursor: str | None = None


# ---------------------------------------------------------------- versions and changes


class FieldChange(BaseModel):
    field: str
    label: str
    before: Any = None
    after: Any = None


class VersionSummary(BaseModel):
    number: int
    status: Status
    kind: str
    reason: str
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
    reason: str
    changed_by: str
    changed_at: dt.datetime
    changed_fields: list[FieldChange]


class ChangesPage(BaseModel):
    items: list[ChangeRead]
    next_cursor: str | None = Field(description="Pass as `since` next time (also when nothing changed)")
    has_more: bool


# ---------------------------------------------------------------- export


class CatalogExport(BaseModel):
    revision: int
    generated_at: dt.datetime
    categories: list[CategoryRead]
    items: list[ItemRead]


# ---------------------------------------------------------------- eligibility


class ResidentFacts(Input):
    """Facts about one resident, named as in the rule vocabulary; leave out what is unknown."""

    age: int | None = Field(default=None, ge=0, le=150)
    birth_date: dt.date | None = Field(default=None, description="Used for age when age is absent")
    gender: Literal[GENDERS] | None = None  # type: ignore[valid-type]
    hukou_local: bool | None = None
    disability_type: Literal[DISABILITY_TYPES] | None = Field(  # type: ignore[valid-type]
        default=None, description="null: no disability (known, so the grade is none too); leave out if unknown"
    )
    disability_grade: int | None = Field(default=None, ge=1, le=4)
    serious_illness: bool | None = None
    living_alone: bool | None = None
    dibao: bool | None = None
    employment_status: Literal[EMPLOYMENT_STATUSES] | None = None  # type: ignore[valid-type]
    pension_insured: bool | None = None
    children_count: int | None = Field(default=None, ge=0, le=20)
    housing_difficulty: bool | None = None
    benefits: list[Annotated[str, StringConstraints(max_length=64)]] | None = Field(default=None, max_length=100)


class EligibilityRequest(Input):
    facts: ResidentFacts
    items: list[Code] | None = Field(
        default=None, max_length=100, description="Only these items (default: all published)"
    )


class EligibilityResult(BaseModel):
    code: str
    name: str
    status: Literal["eligible", "not_eligible", "unknown"]
    reasons: list[str]
    missing_facts: list[str]
    missing_labels: list[str]


class EligibilityResponse(BaseModel):
    results: list[EligibilityResult]
    without_rule: list[str] = Field(description="Items whose conditions are not expressed as a rule")


# ---------------------------------------------------------------- tips and briefings


class TipCreate(Input):
    body: str = Field(min_length=1, max_length=500)


class TipHide(Input):
    reason: str = Field(default="", max_length=200)


class TipRead(BaseModel):
    id: int
    item_code: str
    body: str
    author: str
    community: str | None
    created_at: dt.datetime
    hidden: bool


class TipPage(BaseModel):
    items: list[TipRead]
    next_cursor: str | None = None


class AgendaPoint(Input):
    item_code: Code | None = None
    note: str = Field(min_length=1, max_length=500)


class BriefingCreate(Input):
    community: Code
    held_on: dt.date
    held_at: dt.datetime | None = Field(
        default=None, description="When it took place (default: 08:30 Asia/Shanghai that day)"
    )
    title: str = Field(default="", max_length=100)
    agenda: list[AgendaPoint] = Field(default_factory=list, max_length=30)
    tip_ids: list[int] = Field(default_factory=list, max_length=30)
    attendees: list[Annotated[str, StringConstraints(min_length=1, max_length=100)]] = Field(
        default_factory=list, max_length=100
    )

    @field_validator("held_on")
    @classmethod
    def _plausible_day(cls, v: dt.date) -> dt.date:
        if not EARLIEST <= v <= LATEST:
            raise ValueError(f"must be between {EARLIEST} and {LATEST}")
        return v

    @field_validator("held_at")
    @classmethod
    def _plausible_instant(cls, v: dt.datetime | None) -> dt.datetime | None:
        if v is not None and not EARLIEST <= v.date() <= LATEST:
            raise ValueError(f"must be between {EARLIEST} and {LATEST}")
        return v

    @field_validator("tip_ids")
    @classmethod
    def _tip_ids(cls, v: list[int]) -> list[int]:
        if any(i < 1 or i > 2**31 for i in v):
            raise ValueError("tip ids are positive integers")
        return list(dict.fromkeys(v))


class AgendaPointRead(BaseModel):
    item_code: str | None
    item_name: str | None
    note: str


class BriefingRead(BaseModel):
    id: int
    community: str
    held_on: dt.date
    held_at: dt.datetime
    title: str
    agenda: list[AgendaPointRead]
    tips: list[TipRead]
    attendees: list[str]
    created_by: str


class BriefingPage(BaseModel):
    items: list[BriefingRead]
    next_cursor: str | None = None


class ChangedItem(BaseModel):
    item_code: str
    item_name: str
    status: Status
    changes: list[ChangeRead]


class SinceBriefing(BaseModel):
    last_briefing: BriefingRead | None
    since: dt.datetime | None
    items: list[ChangedItem]
