"""Notification API shapes: what residents were told, recipient masked."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field


class NotificationRead(BaseModel):
    id: int
    station_code: str | None
    community: str
    kind: str
    channel: str
    recipient: str = Field(description="Masked")
    text: str
    created_at: dt.datetime
