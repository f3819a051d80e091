"""Tables for proxy cases (代办件), their timeline and materials, visits and sync tombstones.

Cases and visits carry ``version`` (ETag / If-Match) and ``row_version`` from the change counter
(``versions.py``; the sync feed's cursor). The discovery helper relies on ``proxy_case``
having ``id``, ``resident_id``, ``item_code``, ``status``, ``community`` and ``grid``, and on
"open" meaning ``status NOT IN ('approved', 'rejected', 'closed', 'withdrawn')``.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import Column, ForeignKey, Index
from sqlalchemy import Uuid as SaUuid
from sqlmodel import Field

from doorstep_shared.db import JSONType, UTCDateTime

from ..db import ProxyModel

CLOSED_STATUSES = ("approved", "rejected", "closed", "withdrawn")


class ProxyCase(ProxyModel, table=True):
    """One proxy application (代办件) for one resident and one catalogue item."""

    __tablename__ = "proxy_case"
    __table_args__ = (
        Index("ix_proxy_case_community_status", "community", "status"),
        Index("ix_proxy_case_resident_item", "resident_id", "item_code"),
        Index("ix_proxy_case_community_created", "community", "created_at"),
        Index("ix_proxy_case_community_row_version", "community", "row_version"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    resident_id: uuid.UUID = Field(sa_column=Column(SaUuid(), ForeignKey("resident.id"), nullable=False))
    household_id: uuid.UUID | None = Field(default=None, sa_column=Column(SaUuid(), nullable=True, index=True))
    community: str = Field(max_length=64)
    grid: str = Field(max_length=64, index=True)
    item_code: str = Field(max_length=64, index=True)
    item_name: str = Field(max_length=200)
    # The catalogue item as it was at intake: later catalogue edits never change an open case.
    snapshot: dict[str, Any] = Field(default_factory=dict, sa_type=JSONType)
    catalog_revision: int = 0
    channel: str = Field(max_length=16)  # window | doorstep | platform
    demand_id: uuid.UUID | None = Field(
        default=None, sa_column=Column(SaUuid(), ForeignKey("demand.id"), nullable=True, index=True)
    )
    status: str = Field(default="accepted", max_length=24)
    accepted_by: str = Field(max_length=64, index=True)
    accepted_at: dt.datetime = Field(sa_type=UTCDateTime)
    assigned_grid: str | None = Field(default=None, max_length=64)
    assigned_to: str | None = Field(default=None, max_length=64, index=True)
    department_ref: str | None = Field(default=None, max_length=100)
    filed_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    decided_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    closed_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    due_date: dt.date | None = Field(default=None, index=True)
    due_basis: str | None = Field(default=None, max_length=16)  # promised | statutory | override
    due_override_reason: str | None = Field(default=None, max_length=500)
    note: str | None = Field(default=None, max_length=1000)
    version: int = 1
    row_version: int = Field(default=0, index=True)
    created_at: dt.datetime = Field(sa_type=UTCDateTime)
    updated_at: dt.datetime = Field(sa_type=UTCDateTime)
    updated_by: str = Field(max_length=64)


class ProxyCaseEvent(ProxyModel, table=True):
    """The case's timeline: every transition, reassignment and deadline change, stamped."""

    __tablename__ = "proxy_case_event"

    id: int | None = Field(default=None, primary_key=True)
    case_id: uuid.UUID = Field(
        sa_column=Column(SaUuid(), ForeignKey("proxy_case.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    at: dt.datetime = Field(sa_type=UTCDateTime)
    actor: str = Field(max_length=64)
    kind: str = Field(max_length=16)  # transition | assignment | deadline | material
    from_status: str | None = Field(default=None, max_length=24)
    to_status: str | None = Field(default=None, max_length=24)
    note: str | None = Field(default=None, max_length=1000)
    details: dict[str, Any] = Field(default_factory=dict, sa_type=JSONType)


class ProxyCaseMaterial(ProxyModel, table=True):
    """One line of the case's materials checklist (from the intake snapshot)."""

    __tablename__ = "proxy_case_material"

    case_id: uuid.UUID = Field(
        sa_column=Column(SaUuid(), ForeignKey("proxy_case.id", ondelete="CASCADE"), primary_key=True)
    )
    position: int = Field(primary_key=True)
    name: str = Field(max_length=200)
    form: str = Field(default="copy", max_length=32)
    count: int = 1
    collectable_at_home: bool = True
    collected: str | None = Field(default=None, max_length=16)  # original_seen | copy_taken | electronic
    collected_by: str | None = Field(default=None, max_length=64)
    collected_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)


class Visit(ProxyModel, table=True):
    """A doorstep visit (上门): planned date and window, worker, cases covered, outcome."""

    __tablename__ = "proxy_visit"
    __table_args__ = (
        Index("ix_proxy_visit_worker_date", "worker", "planned_date"),
        Index("ix_proxy_visit_community_date", "community", "planned_date"),
        Index("ix_proxy_visit_community_row_version", "community", "row_version"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    community: str = Field(max_length=64)
    grid: str = Field(max_length=64, index=True)
    resident_id: uuid.UUID = Field(sa_column=Column(SaUuid(), ForeignKey("resident.id"), nullable=False, index=True))
    household_id: uuid.UUID | None = Field(default=None, sa_column=Column(SaUuid(), nullable=True))
    compound_code: str = Field(max_length=64)
    building: str = Field(default="", max_length=16)
    unit: str = Field(default="", max_length=16)
    room: str = Field(default="", max_length=16)
    worker: str = Field(max_length=64)
    planned_date: dt.date
    window_start: dt.time | None = None
    window_end: dt.time | None = None
    status: str = Field(default="planned", max_length=16)  # planned | checked_in | done | nobody_home | come_back
    check_in_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    check_out_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    outcome: str | None = Field(default=None, max_length=16)
    come_back_date: dt.date | None = None
    follow_up_date: dt.date | None = None
    notes: str | None = Field(default=None, max_length=2000)
    version: int = 1
    row_version: int = Field(default=0, index=True)
    created_at: dt.datetime = Field(sa_type=UTCDateTime)
    created_by: str = Field(max_length=64)
    updated_at: dt.datetime = Field(sa_type=UTCDateTime)


class VisitCase(ProxyModel, table=True):
    """Which cases a visit covers (several cases of one household in one visit)."""

    __tablename__ = "proxy_visit_case"

    visit_id: uuid.UUID = Field(
        sa_column=Column(SaUuid(), ForeignKey("proxy_visit.id", ondelete="CASCADE"), primary_key=True)
    )
    case_id: uuid.UUID = Field(
        sa_column=Column(SaUuid(), ForeignKey("proxy_case.id", ondelete="CASCADE"), primary_key=True, index=True)
    )


class SyncTombstone(ProxyModel, table=True):
    """A deleted record, kept so the sync feed can tell phones to drop it. With ``grid`` or
    ``worker`` set the record still exists but left that grid's or that worker's sync scope
    (a compound redrawn, a case reassigned): only phones of that scope hear of it, and not if the
    record is still in their scope by another road."""

    __tablename__ = "sync_tombstone"

    id: int | None = Field(default=None, primary_key=True)
    entity: str = Field(max_length=16)
    entity_id: str = Field(max_length=64)
    community: str = Field(max_length=64, index=True)
    row_version: int = Field(index=True)
    deleted_at: dt.datetime = Field(sa_type=UTCDateTime)
    grid: str | None = Field(default=None, max_length=64)
    worker: str | None = Field(default=None, max_length=64)
