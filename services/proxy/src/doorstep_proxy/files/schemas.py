"""API shapes of material files."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from ..inputs import Input


class FileStart(Input):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"id": "0b9f3c1e-5f7a-4c1e-9a57-2f0c7d9e8a11", "size": 1_482_113}]},
    )

    id: uuid.UUID | None = Field(
        default=None, description="A client-made UUID: starting again with it returns the same upload"
    )
    size: int = Field(ge=1, description="The file's size in bytes (the upload is complete at the last one)")


class FileRead(BaseModel):
    """What a file of a material or of a visit says of itself."""

    id: uuid.UUID
    status: Literal["uploading", "ready"]
    size: int = Field(description="Bytes announced when the upload started")
    received: int = Field(description="Bytes the server has: the next chunk starts here")
    content_type: str | None = Field(description="image/jpeg, image/png or application/pdf, found in the content")
    stored_size: int | None = Field(description="Bytes stored after the metadata was stripped")
    width: int | None
    height: int | None
    uploaded_by: str
    created_at: dt.datetime
    completed_at: dt.datetime | None
    content_url: str | None = Field(description="Download (audited); once ready")
    thumbnail_url: str | None = Field(description="A small JPEG for lists (audited); images only")


class CaseFileRead(FileRead):
    case_id: uuid.UUID
    position: int = Field(description="The material's position in the case's checklist")


class VisitFileRead(FileRead):
    visit_id: uuid.UUID
