"""The demands table: consultations and requests from residents (群众诉求)."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import Column, ForeignKey, Index
from sqlalchemy import Uuid as SaUuid
from sqlmodel import Field

from doorstep_shared.db import UTCDateTime

from ..db import ProxyModel


class Demand(ProxyModel, table=True):
    """A consultation or request from a resident (群众诉求/咨询)."""

    __tablename__ = "demand"
    __table_args__ = (
        Index("ix_demand_community_created", "community", "created_at"),
        Index("ix_demand_source_client", "source_client", "created_at"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    community: str = Field(max_length=64)
    grid: str | None = Field(default=None, max_length=64, index=True)
    resident_id: uuid.UUID | None = Field(
        default=None,
        sa_column=Column(SaUuid(), ForeignKey("resident.id"), nullable=True, index=True),
    )
    channel: str = Field(max_length=16)  # window | phone | doorstep | hotline | platform
    kind: str = Field(default="request", max_length=16)  # consultation | request
    item_code: str | None = Field(default=None, max_length=64)
    text: str = Field(max_length=2000)
    contact_name: str | None = Field(default=None, max_length=50)
    contact_phone_enc: str | None = Field(default=None, max_length=255)
    status: str = Field(default="open", max_length=16)  # open | answered | converted | closed
    answer: str | None = Field(default=None, max_length=2000)
    answered_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    answered_by: str | None = Field(default=None, max_length=64)
    case_ref: str | None = Field(default=None, max_length=64)
    logged_by: str = Field(max_length=64)
    source_client: str | None = Field(default=None, max_length=64)
    external_ref: str | None = Field(default=None, max_length=64)
    version: int = 1
    row_version: int = Field(default=0, index=True)
    created_at: dt.datetime = Field(sa_type=UTCDateTime)
    updated_at: dt.datetime = Field(sa_type=UTCDateTime)
