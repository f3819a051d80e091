"""Tips and briefings API shapes."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from doorstep_shared.types import RedactedText

from ..inputs import Code, Input
from ..items.schemas import Status
from ..versions.schemas import ChangeRead

EARLIEST = dt.date(2000, 1, 1)
LATEST = dt.date(2100, 12, 31)


class TipCreate(Input):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"body": "高龄补贴到龄前一个月社区会电话提醒；老人行动不便的可预约上门代办，记得提前备好银行卡复印件。"}
            ]
        }
    )

    body: str = Field(min_length=1, max_length=500)


class TipHide(Input):
    model_config = ConfigDict(json_schema_extra={"examples": [{"reason": "内容已过时：补贴标准已调整"}]})

    reason: str = Field(default="", max_length=200)


class TipRead(BaseModel):
    id: int
    item_code: str
    body: RedactedText
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
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "community": "chaoyang",
                    "held_on": "2026-11-02",
                    "title": "周一晨会",
                    "agenda": [
                        {"item_code": "elderly-allowance", "note": "本月到龄老人名单已下发，各网格核对后上门"},
                        {"note": "冬季取暖救助摸排启动"},
                    ],
                    "tip_ids": [1],
                    "attendees": ["第六网格社工", "社区主任"],
                }
            ]
        }
    )

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
    note: RedactedText


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
