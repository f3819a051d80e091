"""Tables of files — a case's material files and a visit's attachments: one row per file (its
upload's progress, then what was stored) and its parts, each sealed with the PII keys
(``doorstep_shared.pii``). Both kinds share their columns (``FileColumns``) and their rules
(``service.py``); only what they belong to differs."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import Column, ForeignKey, Index, LargeBinary
from sqlalchemy import Uuid as SaUuid
from sqlmodel import Field

from doorstep_shared.db import UTCDateTime

from ..db import ProxyModel


class FileColumns(ProxyModel):
    """What every file row holds: its upload's progress, then what was stored (no table)."""

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    community: str = Field(max_length=64, index=True)  # its case's or visit's, for tenancy.scoped
    grid: str = Field(max_length=64)
    status: str = Field(default="uploading", max_length=16)  # uploading | ready
    size: int  # bytes the client announced (the upload is complete when ``received`` reaches it)
    received: int = 0
    content_type: str | None = Field(default=None, max_length=32)  # found in the content
    stored_size: int | None = None  # after stripping metadata
    width: int | None = None
    height: int | None = None
    has_thumbnail: bool = False
    pii_kid: str = Field(max_length=32, index=True)  # the key the stored parts are sealed with
    uploaded_by: str = Field(max_length=64)
    created_at: dt.datetime = Field(sa_type=UTCDateTime)
    completed_at: dt.datetime | None = Field(default=None, sa_type=UTCDateTime)


class CaseFile(FileColumns, table=True):
    """A photo or scan of one material of a case (``position`` in its checklist)."""

    __tablename__ = "proxy_case_file"
    __table_args__ = (Index("ix_proxy_case_file_case_position", "case_id", "position"),)

    case_id: uuid.UUID = Field(
        sa_column=Column(SaUuid(), ForeignKey("proxy_case.id", ondelete="CASCADE"), nullable=False)
    )
    position: int


class VisitFile(FileColumns, table=True):
    """A photo or scan taken on a visit (the signed form, the door notice left for nobody home)."""

    __tablename__ = "proxy_visit_file"
    __table_args__ = (Index("ix_proxy_visit_file_visit_created", "visit_id", "created_at"),)

    visit_id: uuid.UUID = Field(
        sa_column=Column(SaUuid(), ForeignKey("proxy_visit.id", ondelete="CASCADE"), nullable=False)
    )


class CaseFilePart(ProxyModel, table=True):
    """A sealed slice of a file: the upload as it arrives (``upload``), then the stored file
    (``content``) and its thumbnail (``thumbnail``). ``offset`` is the slice's first byte in the
    plain file; the seal's associated data names file, kind and offset, so slices cannot be
    swapped or moved between files."""

    __tablename__ = "proxy_case_file_part"

    file_id: uuid.UUID = Field(
        sa_column=Column(SaUuid(), ForeignKey("proxy_case_file.id", ondelete="CASCADE"), primary_key=True)
    )
    kind: str = Field(max_length=16, primary_key=True)
    offset: int = Field(primary_key=True)
    length: int
    data: bytes = Field(sa_column=Column(LargeBinary(), nullable=False))


class VisitFilePart(ProxyModel, table=True):
    """A sealed slice of a visit's file, as ``CaseFilePart`` is of a material's."""

    __tablename__ = "proxy_visit_file_part"

    file_id: uuid.UUID = Field(
        sa_column=Column(SaUuid(), ForeignKey("proxy_visit_file.id", ondelete="CASCADE"), primary_key=True)
    )
    kind: str = Field(max_length=16, primary_key=True)
    offset: int = Field(primary_key=True)
    length: int
    data: bytes = Field(sa_column=Column(LargeBinary(), nullable=False))
