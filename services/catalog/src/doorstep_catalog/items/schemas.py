"""Items API shapes: categories; an item's content, its create/update/read forms and search
results; the export document. Inputs forbid unknown fields and bound every string, number and
list."""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

from ..inputs import Code, Input, Name
from .models import Item

Status = Literal["draft", "published", "retired"]
Channel = Literal["window", "doorstep", "online"]
MAX_RULE_JSON = 8000


def _window_only() -> list[Channel]:
    return ["window"]


# ---------------------------------------------------------------- categories


class CategoryRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    name: str
    description: str
    position: int
    version: int


class CategoryCreate(Input):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "code": "veterans",
                    "name": "退役军人服务",
                    "description": "优待证申领、信息采集、帮扶援助等",
                    "position": 6,
                }
            ]
        }
    )

    code: Code
    name: Name
    description: str = Field(default="", max_length=1000)
    position: int = Field(default=0, ge=0, le=1000)


class CategoryUpdate(Input):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"name": "养老与民生保障", "description": "高龄补贴、低保、特困供养、廉租房等", "position": 4}]
        }
    )

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
    evidence: Literal["photo"] | None = Field(
        default=None, description="photo：代办时须上传照片或扫描件，方可勾选为已收取"
    )


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
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "code": "elderly-meal-card",
                    "name": "老年助餐卡办理",
                    "category": "elderly-livelihood",
                    "status": "draft",
                    "aliases": ["助餐卡", "老年食堂"],
                    "summary": "本县户籍60周岁以上老年人可办理助餐卡，在社区老年食堂享受用餐优惠。（示例文本）",
                    "audience": "本县户籍60周岁以上老年人",
                    "conditions": "年满60周岁；本县户籍",
                    "eligibility_rule": {"and": [{">=": [{"var": "age"}, 60]}, {"var": "hukou_local"}]},
                    "materials": [{"name": "居民身份证", "form": "copy", "count": 1, "collectable_at_home": True}],
                    "steps": [
                        {"title": "社区受理", "detail": "社工上门或窗口收取材料"},
                        {"title": "发卡", "detail": "5个工作日内发放助餐卡"},
                    ],
                    "promised_days": 5,
                    "fee": {"free": True},
                    "department": "县民政局",
                    "contact": "社区党群服务中心一楼窗口",
                    "channels": ["window", "doorstep"],
                    "proxy_eligible": True,
                    "trips": 0,
                    "faq": [{"question": "外地户籍老人能办吗？", "answer": "暂不能办理，可按普通价格用餐。"}],
                }
            ]
        }
    )

    code: Code = Field(description="Stable, human-readable code, e.g. elderly-allowance")
    name: Name
    category: Code
    status: Literal["draft", "published"] = "draft"


class ItemUpdate(Input):
    """Only the fields given change; ``reason`` says why (kept with the new version)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "reason": "承诺时限由15个工作日缩短为10个工作日",
                    "promised_days": 10,
                    "contact": "朝阳社区党群服务中心一楼窗口",
                }
            ]
        }
    )

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
    county: str = Field(default="", description="The county whose handbook the item is in")
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
    matched_field: str | None = Field(
        default=None, description="The best field the query matched: name, alias, summary, materials, tips or text"
    )
    matched: list[str] | None = Field(
        default=None, description="Words of the name, aliases, summary or materials the query matched (highlighting)"
    )


class ItemPage(BaseModel):
    items: list[ItemSummary]
    next_cursor: str | None = None
    search_id: str | None = Field(
        default=None, description="With q, on the first page: report the item opened with POST /search/opened"
    )


# ---------------------------------------------------------------- copying a handbook


class HandbookImport(Input):
    """Copy another county's published handbook into yours, as drafts."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"from_county": "neighbour-county"}]})

    from_county: Code = Field(description="The county whose published items are copied")


class HandbookImported(BaseModel):
    county: str = Field(description="Your county: where the drafts are")
    from_county: str
    copied: list[str] = Field(description="Codes copied as drafts")
    skipped: list[str] = Field(description="Codes your county already has (any status): left as they are")


# ---------------------------------------------------------------- export


class CatalogExport(BaseModel):
    revision: int
    county: str | None = Field(
        default=None, description="The county of every item below; absent: every county's, each item naming its own"
    )
    generated_at: dt.datetime
    categories: list[CategoryRead]
    items: list[ItemRead]


# ---------------------------------------------------------------- rows → shapes


def item_read(item: Item, category_code: str, category_name: str) -> ItemRead:
    """An item row as the API shows it (its content, plus the columns beside it)."""
    return ItemRead.model_validate(
        {
            **item.content,
            "county": item.county,
            "code": item.code,
            "name": item.name,
            "category": category_code,
            "category_name": category_name,
            "status": item.status,
            "version": item.version,
            "published_version": item.published_version,
            "updated_at": item.updated_at,
            "updated_by": item.updated_by,
            "proxy_eligible": item.proxy_eligible,
            "channels": [c for c in item.channel_tags.split(",") if c],
        }
    )
