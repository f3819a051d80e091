"""Notification API shapes: what residents were told, recipient masked."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field

from doorstep_shared.types import RedactedText


class NotificationRead(BaseModel):
    id: int
    station_code: str | None
    community: str
    kind: str
    channel: str
    recipient: str = Field(description="Masked")
    text: RedactedText
    created_at: dt.datetime
