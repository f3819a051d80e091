"""Drop-off tickets: what residents leave at a station to be worked on and handed back."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import UniqueConstraint
from sqlmodel import Field

from doorstep_shared.clock import utcnow
from doorstep_shared.db import UTCDateTime

from ..db import StationsModel


class TicketStatus(StrEnum):
    RECEIVED = "received"
    IN_PROGRESS = "in_progress"
    READY = "ready"
    COLLECTED = "collected"
    RETURNED = "returned"


OPEN_TICKET_STATUSES = (TicketStatus.RECEIVED, TicketStatus.IN_PROGRESS, TicketStatus.READY)


class DropOffTicket(StationsModel, table=True):
    """Something a resident left at a station to be worked on and handed back."""

    __tablename__ = "dropoff_ticket"
    __table_args__ = (UniqueConstraint("station_id", "number"),)

    id: int | None = Field(default=None, primary_key=True)
    station_id: int = Field(foreign_key="station.id", index=True)
    service_id: int | None = Field(default=None, foreign_key="station_service.id")
    community: str = Field(max_length=64, index=True)
    number: str = Field(max_length=20)
    claim_code_hash: str = Field(max_length=64)
    name: str = Field(max_length=50)
    phone_cipher: str = Field(max_length=200)
    phone_hash: str = Field(max_length=64)
    phone_masked: str = Field(max_length=20)  # what responses show (138****5678)
    item: str = Field(max_length=200)
    request: str = Field(max_length=500)
    received_by: str = Field(max_length=100)
    status: str = Field(default=TicketStatus.RECEIVED, max_length=20, index=True)
    return_reason: str | None = Field(default=None, max_length=200)
    failed_attempts: int = Field(default=0)
    locked: bool = Field(default=False)
    received_at: dt.datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    ready_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    closed_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    version: int = Field(default=1)
