"""Drop-off ticket API shapes; the claim code goes out once, at creation."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from doorstep_shared.types import RedactedText

from ..inputs import Code, Input
from .models import TicketStatus


class TicketCreate(Input):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "service_code": "tailoring",
                    "name": "李阿姨",
                    "phone": "13800000000",
                    "item": "深蓝色西裤一条",
                    "request": "裤脚改短3厘米",
                }
            ]
        }
    )

    service_code: Code | None = None
    name: str = Field(min_length=1, max_length=50)
    phone: str = Field(min_length=5, max_length=20)
    item: str = Field(min_length=1, max_length=200)
    request: str = Field(min_length=1, max_length=500)


class TicketRead(BaseModel):
    id: int
    station_code: str
    service_code: str | None
    number: str
    name: str = Field(description="Masked")
    phone: str = Field(description="Masked")
    item: RedactedText
    request: RedactedText
    received_by: str
    status: TicketStatus
    return_reason: RedactedText | None
    failed_attempts: int
    locked: bool
    received_at: dt.datetime
    ready_at: dt.datetime | None
    closed_at: dt.datetime | None
    age_hours: float
    version: int


class TicketCreated(TicketRead):
    claim_code: str = Field(description="Shown once: hand it to the resident")


class TicketStatusChange(Input):
    model_config = ConfigDict(json_schema_extra={"examples": [{"status": "ready"}]})

    status: Literal["in_progress", "ready", "returned"]
    reason: str | None = Field(None, min_length=1, max_length=200)


class TicketCollect(Input):
    model_config = ConfigDict(json_schema_extra={"examples": [{"claim_code": "7KQ2MX"}, {"phone_last4": "0000"}]})

    claim_code: str | None = Field(None, min_length=1, max_length=20)
    phone_last4: str | None = Field(None, pattern=r"^\d{4}$")

    @model_validator(mode="after")
    def _one_proof(self) -> TicketCollect:
        if (self.claim_code is None) == (self.phone_last4 is None):
            raise ValueError("give exactly one of claim_code or phone_last4")
        return self
