"""What the subscription routes take and answer."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.engine import RowMapping

from .tables import DeliveryStatus


class WebhookSubscriptionCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "url": "https://hotline.example.gov.cn/hooks/doorstep",
                    "event_types": ["demand.created", "demand.answered"],
                    "communities": ["chaoyang"],
                    "description": "12345 热线：诉求回访",
                }
            ]
        },
    )

    url: str = Field(min_length=8, max_length=2000, description="Where to POST events (https in production)")
    event_types: list[Annotated[str, Field(min_length=1, max_length=100)]] = Field(
        min_length=1, max_length=50, description="Event types to receive (see `GET …/event-types`)"
    )
    communities: list[Annotated[str, Field(min_length=1, max_length=64)]] | None = Field(
        None,
        max_length=50,
        description="Narrow to these communities (a subset of the client's); default: all the client may see",
    )
    description: str | None = Field(None, max_length=200)


class WebhookSubscriptionRead(BaseModel):
    id: int
    owner: str
    url: str
    description: str | None
    event_types: list[str]
    communities: list[str] | None = Field(description="null: every community")
    active: bool
    created_at: dt.datetime
    updated_at: dt.datetime
    deactivated_at: dt.datetime | None
    secret_rotated_at: dt.datetime | None
    previous_secret_expires_at: dt.datetime | None = Field(
        description="Until then events are also signed with the previous secret"
    )
    version: int


class WebhookSubscriptionCreated(WebhookSubscriptionRead):
    secret: str = Field(description="The signing secret (`whsec_…`): shown only in this response")


class WebhookSecretRotate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"overlap_hours": 24}]})

    overlap_hours: float = Field(
        24, ge=0, le=168, description="How long the old secret keeps signing alongside the new one"
    )


class WebhookDeliveryRead(BaseModel):
    id: int
    event_id: str = Field(description="The `webhook-id` header: the same on every attempt")
    event_type: str
    subscription_id: int
    resource: str
    status: str = Field(description=" | ".join(DeliveryStatus.ALL))
    attempts: int
    response_code: int | None
    latency_ms: int | None
    last_error: str | None
    next_attempt_at: dt.datetime | None
    last_attempt_at: dt.datetime | None
    delivered_at: dt.datetime | None
    created_at: dt.datetime
    payload: dict[str, Any] = Field(description="The JSON body sent")


class WebhookEventTypeRead(BaseModel):
    type: str
    description: str
    scopes: list[str] = Field(description="A client holding any of these may subscribe")
    example: dict[str, Any]


def subscription_read(row: RowMapping) -> WebhookSubscriptionRead:
    return WebhookSubscriptionRead(
        id=row["id"],
        owner=row["owner"],
        url=row["url"],
        description=row["description"],
        event_types=list(row["event_types"] or []),
        communities=list(row["communities"]) if row["communities"] is not None else None,
        active=row["active"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        deactivated_at=row["deactivated_at"],
        secret_rotated_at=row["secret_rotated_at"],
        previous_secret_expires_at=row["previous_secret_expires_at"],
        version=row["version"],
    )


def delivery_read(row: RowMapping) -> WebhookDeliveryRead:
    return WebhookDeliveryRead.model_validate({k: row[k] for k in WebhookDeliveryRead.model_fields})
