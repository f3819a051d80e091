"""Discovery tables: leads (resident × item), runs with checkpoints, the run lease, the rule
state per item (to spot rule changes) and the queue of residents whose facts changed."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import Column, Index, Text, UniqueConstraint
from sqlalchemy import Uuid as SaUuid
from sqlmodel import Field

from doorstep_shared.db import JSONType, UTCDateTime

from ..db import ProxyModel

LEAD_STATUSES = ("new", "contacted", "declined", "converted", "obsolete")
OPEN_LEAD_STATUSES = ("new", "contacted")
# Statuses a run may turn into ``obsolete`` when the resident no longer qualifies.
SWEPT_STATUSES = ("new", "contacted", "declined")
VERDICTS = ("eligible", "unknown")


class DiscoveryLead(ProxyModel, table=True):
    """A resident who qualifies (or may: ``unknown``) for an item they neither receive nor have
    an open case for. One row per (resident, item), upserted by every run."""

    __tablename__ = "discovery_lead"
    __table_args__ = (
        # Three indexes, because a first fill of a county pays for each one on every lead it
        # inserts (about a second per index for 865,000 leads, more than the rows themselves):
        # - the primary key;
        # - unique (item, resident): a lead per resident and item, and, item first, the index
        #   a run's per-item diff and sweep read, so no separate (item, status) index; a
        #   resident's leads are read with the catalogue's item codes (``resident_context``);
        # - (community, grid, id): lists page by id within a grid (or a community); verdict
        #   and status filter the few rows read per page.
        UniqueConstraint("item_code", "resident_id", name="uq_discovery_lead_item_resident"),
        Index("ix_discovery_lead_place", "community", "grid", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    # No foreign key on purpose: leads are derived data written in bulk (the FK check cost a
    # third of the insert time), and residents are never deleted (soft removal).
    resident_id: uuid.UUID = Field(sa_column=Column(SaUuid(), nullable=False))
    item_code: str = Field(max_length=64)
    community: str = Field(max_length=64)
    grid: str = Field(max_length=64)
    verdict: str = Field(max_length=16)  # eligible | unknown
    status: str = Field(default="new", max_length=16)
    missing_mask: int = 0  # the missing facts (bits: compile_sql.FACT_BITS)
    fingerprint: str = Field(default="", sa_type=Text)  # the facts the rule read
    declined_reason: str | None = Field(default=None, max_length=500)
    case_id: uuid.UUID | None = Field(default=None, sa_column=Column(SaUuid(), nullable=True))
    first_seen_at: dt.datetime = Field(sa_type=UTCDateTime)
    last_confirmed_at: dt.datetime = Field(sa_type=UTCDateTime)
    status_changed_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    status_by: str | None = Field(default=None, max_length=64)
    confirmed_pass: int = 0  # the run that last confirmed it (0: the incremental path)
    version: int = 1


class DiscoveryRun(ProxyModel, table=True):
    """A run over a community or the county: progress, checkpoint (items done) and outcome."""

    __tablename__ = "discovery_run"

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(default="full", max_length=16)  # full | rules (only changed items)
    scope: str = Field(max_length=64)  # "county" or a community code
    status: str = Field(default="running", max_length=16)  # running | completed | failed
    catalog_revision: int = 0
    eval_date: dt.date
    items: list[str] = Field(default_factory=list, sa_type=JSONType)  # the plan
    items_done: list[str] = Field(default_factory=list, sa_type=JSONType)  # the checkpoint
    fallback_items: list[str] = Field(default_factory=list, sa_type=JSONType)  # evaluated in Python
    eligible: int = 0
    unknown: int = 0
    obsoleted: int = 0
    started_by: str = Field(max_length=64)
    started_at: dt.datetime = Field(sa_type=UTCDateTime, index=True)
    heartbeat_at: dt.datetime = Field(sa_type=UTCDateTime)
    finished_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    resumed: int = 0  # how many times another worker took it over after a crash
    error: str | None = Field(default=None, max_length=500)


class DiscoveryLock(ProxyModel, table=True):
    """The lease that makes a run single: one row per lock name; a holder renews ``expires_at``
    at every checkpoint, and an expired lease may be taken over (crash → resume)."""

    __tablename__ = "discovery_lock"

    name: str = Field(primary_key=True, max_length=32)
    run_id: int | None = None
    owner: str = Field(max_length=64)
    expires_at: dt.datetime = Field(sa_type=UTCDateTime)


class DiscoveryItemState(ProxyModel, table=True):
    """The rule each item had at the last completed county-wide evaluation."""

    __tablename__ = "discovery_item_state"

    item_code: str = Field(primary_key=True, max_length=64)
    rule_hash: str = Field(max_length=64)
    catalog_revision: int = 0
    evaluated_at: dt.datetime = Field(sa_type=UTCDateTime)


class DiscoveryPending(ProxyModel, table=True):
    """Residents whose facts changed since their leads were computed (a durable queue)."""

    __tablename__ = "discovery_pending"

    resident_id: uuid.UUID = Field(sa_column=Column(SaUuid(), primary_key=True))
    queued_at: dt.datetime = Field(sa_type=UTCDateTime)
