"""API shapes for demands (consultations and requests)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from doorstep_shared.types import RedactedText

from ..inputs import Code, Input

Channel = Literal["window", "phone", "doorstep", "hotline", "platform"]
DemandKind = Literal["consultation", "request"]
DemandStatus = Literal["open", "answered", "converted", "closed"]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]


class DemandCreate(Input):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "community": "chaoyang",
                    "grid": "chaoyang-g6",
                    "channel": "hotline",
                    "kind": "request",
                    "item_code": "elderly-allowance",
                    "text": "家中老人今年满80周岁，想咨询高龄补贴怎么申请，老人行动不便能否上门办理。",
                    "contact_name": "李女士",
                    "contact_phone": "13800000000",
                    "external_ref": "12345-2026-0001",
                }
            ]
        }
    )

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
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"answer": "已告知：本县户籍满80周岁可申领高龄补贴，社工本周内上门收取身份证、户口簿和银行卡复印件。"}
            ]
        }
    )

    answer: Text


class DemandConvert(Input):
    model_config = ConfigDict(json_schema_extra={"examples": [{"case_ref": "5b1f3c2a-8d4e-4f6a-9b7c-1e2d3f4a5b6c"}]})

    case_ref: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]


class DemandClose(Input):
    model_config = ConfigDict(json_schema_extra={"examples": [{"note": "来电人表示已自行到窗口办理"}]})

    note: Annotated[str, StringConstraints(max_length=500)] | None = None


class DemandRead(BaseModel):
    id: uuid.UUID
    community: str
    grid: str | None
    resident_id: uuid.UUID | None
    channel: Channel
    kind: DemandKind
    item_code: str | None
    text: RedactedText
    contact_name: str | None
    contact_phone_masked: str | None
    status: DemandStatus
    answer: RedactedText | None
    answered_at: dt.datetime | None
    answered_by: str | None
    case_ref: str | None
    logged_by: str
    source_client: str | None
    external_ref: str | None
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime
