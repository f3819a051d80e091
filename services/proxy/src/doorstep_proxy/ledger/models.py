"""The ledger's tables: compounds, households, residents, their benefits, and the reveal trail.

Resident eligibility facts are plain typed columns named exactly as the rule vocabulary
(``doorstep_shared.rules.vocabulary``) names them, so rules can be compiled into SQL over this
table; ``NULL`` means *unknown*. ``age`` is not stored: it derives from ``birth_date``.
Mutable rows carry ``version`` (ETag / If-Match) and ``row_version`` (a monotonic change
counter from ``versions.ChangeSequence``, for the offline sync feed).
"""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import Column, ForeignKey, Index, UniqueConstraint
from sqlalchemy import Uuid as SaUuid
from sqlmodel import Field

from doorstep_shared.db import UTCDateTime

from ..db import ProxyModel


class Compound(ProxyModel, table=True):
    """A residential compound (小区) of a community's grid."""

    __tablename__ = "compound"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=64, unique=True)
    name: str = Field(max_length=100)
    community: str = Field(max_length=64, index=True)
    grid: str = Field(max_length=64, index=True)
    address: str = Field(default="", max_length=200)
    buildings: int = 0
    households: int = 0  # declared count (the survey's target), not the ledger's count
    latitude: float | None = None
    longitude: float | None = None
    version: int = 1
    row_version: int = Field(default=0, index=True)
    updated_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)


class Household(ProxyModel, table=True):
    """People living together at one address (compound, building, unit, room)."""

    __tablename__ = "household"
    __table_args__ = (UniqueConstraint("compound_code", "building", "unit", "room", name="uq_household_address"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    community: str = Field(max_length=64, index=True)
    grid: str = Field(max_length=64, index=True)
    compound_code: str = Field(max_length=64, foreign_key="compound.code")
    building: str = Field(default="", max_length=16)
    unit: str = Field(default="", max_length=16)
    room: str = Field(default="", max_length=16)
    version: int = 1
    row_version: int = Field(default=0, index=True)
    created_at: dt.datetime = Field(sa_type=UTCDateTime)


class Resident(ProxyModel, table=True):
    """A resident on the ledger (居民). ID number and phone are ciphertext + keyed hash only."""

    __tablename__ = "resident"
    __table_args__ = (
        Index("ix_resident_address", "compound_code", "building", "unit", "room", "name", "id"),
        Index("ix_resident_community_status", "community", "status"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    community: str = Field(max_length=64)
    grid: str = Field(max_length=64, index=True)
    compound_code: str = Field(max_length=64, foreign_key="compound.code")
    household_id: uuid.UUID | None = Field(
        default=None,
        sa_column=Column(SaUuid(), ForeignKey("household.id"), nullable=True, index=True),
    )
    building: str = Field(default="", max_length=16)
    unit: str = Field(default="", max_length=16)
    room: str = Field(default="", max_length=16)
    name: str = Field(max_length=50, index=True)

    # Personal data: AES-GCM ciphertext (key id inside, and in pii_kid for rotation queries)
    # plus an HMAC for exact lookup. The plain last four of the ID number are kept on purpose:
    # they are exactly what the mask shows anyway (340523********1234), so storing them adds no
    # disclosure, and it makes "search by last 4" an indexed equality instead of a table scan
    # that decrypts every row (a keyed hash of 4 digits would be brute-forced in 10^4 tries).
    id_number_enc: str = Field(max_length=255)
    id_number_hash: str = Field(max_length=64, unique=True)
    id_last4: str = Field(max_length=4, index=True)
    phone_enc: str | None = Field(default=None, max_length=255)
    phone_hash: str | None = Field(default=None, max_length=64, index=True)
    disability_cert_enc: str | None = Field(default=None, max_length=255)
    pii_kid: str = Field(max_length=32, index=True)

    # Eligibility facts (names = rule vocabulary; NULL = unknown).
    birth_date: dt.date = Field(index=True)
    gender: str = Field(max_length=8)
    hukou_local: bool | None = None
    disability_type: str | None = Field(default=None, max_length=16, index=True)
    disability_grade: int | None = Field(default=None, index=True)
    serious_illness: bool | None = None
    living_alone: bool | None = None
    dibao: bool | None = None
    employment_status: str | None = Field(default=None, max_length=16)
    pension_insured: bool | None = None
    children_count: int | None = None
    housing_difficulty: bool | None = None

    # Survey metadata and life cycle.
    surveyed_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    surveyed_by: str | None = Field(default=None, max_length=64)
    status: str = Field(default="active", max_length=16)  # active | moved_away | deceased
    removed_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)
    removed_reason: str | None = Field(default=None, max_length=200)
    removed_by: str | None = Field(default=None, max_length=64)

    version: int = 1
    row_version: int = Field(default=0, index=True)
    created_at: dt.datetime = Field(sa_type=UTCDateTime)
    created_by: str = Field(max_length=64)
    updated_at: dt.datetime = Field(sa_type=UTCDateTime)
    updated_by: str = Field(max_length=64)


class ResidentBenefit(ProxyModel, table=True):
    """A catalogue item the resident already receives (the ``benefits`` fact), and since when."""

    __tablename__ = "resident_benefit"
    __table_args__ = (Index("ix_resident_benefit_item_code", "item_code", "resident_id"),)

    resident_id: uuid.UUID = Field(
        sa_column=Column(SaUuid(), ForeignKey("resident.id", ondelete="CASCADE"), primary_key=True)
    )
    item_code: str = Field(primary_key=True, max_length=64)
    since: dt.date | None = None


class RevealAudit(ProxyModel, table=True):
    """Append-only record of every reveal of personal data (nothing updates or deletes it).

    ``id`` orders the records; ``prev_hash``/``record_hash`` are left empty for a later
    hash chain over the canonical fields (id, at, actor, resident_id, fields, reason, request_id).
    """

    __tablename__ = "reveal_audit"

    id: int | None = Field(default=None, primary_key=True)
    at: dt.datetime = Field(sa_type=UTCDateTime, index=True)
    actor: str = Field(max_length=64, index=True)
    actor_kind: str = Field(max_length=8)
    actor_roles: str = Field(default="", max_length=200)
    resident_id: uuid.UUID = Field(sa_column=Column(SaUuid(), nullable=False, index=True))
    community: str = Field(max_length=64, index=True)
    fields: str = Field(max_length=200)  # comma-separated, sorted
    reason: str = Field(max_length=500)
    request_id: str | None = Field(default=None, max_length=128)
    prev_hash: str | None = Field(default=None, max_length=64)
    record_hash: str | None = Field(default=None, max_length=64)
