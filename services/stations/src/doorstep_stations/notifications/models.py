"""Notification tables: the outbox that carries messages to residents, and the log of those sent."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Column
from sqlmodel import Field

from doorstep_shared.clock import utcnow
from doorstep_shared.db import JSONType, UTCDateTime
from doorstep_shared.db.outbox import make_outbox_table

from ..db import StationsModel, metadata

outbox = make_outbox_table(metadata)


class Notification(StationsModel, table=True):
    """A message sent by the development notifier (a log of what residents were told)."""

    __tablename__ = "notification"

    id: int | None = Field(default=None, primary_key=True)
    outbox_id: int = Field(unique=True)  # one message per outbox row: never duplicated
    station_id: int | None = Field(default=None, index=True)
    community: str = Field(max_length=64, index=True)
    kind: str = Field(max_length=40)
    channel: str = Field(max_length=20)
    recipient_masked: str = Field(max_length=40)
    text: str = Field(max_length=500)
    extra: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONType))
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
