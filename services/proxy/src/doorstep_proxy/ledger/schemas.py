"""Proxy API shapes for the ledger: compounds, households, residents, reveals.

Personal data goes out masked only (``*_masked``); plain values exist only in ``RevealRead``.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from doorstep_shared.rules.vocabulary import DISABILITY_TYPES, EMPLOYMENT_STATUSES
from doorstep_shared.types import RedactedText

from ..inputs import Code, Input
from .groups import Group

Gender = Literal["male", "female"]
DisabilityType = Literal[DISABILITY_TYPES]  # type: ignore[valid-type]
EmploymentStatus = Literal[EMPLOYMENT_STATUSES]  # type: ignore[valid-type]
ResidentStatus = Literal["active", "moved_away", "deceased"]
RevealField = Literal["id_number", "phone", "disability_certificate_no"]

AddressPart = Annotated[str, StringConstraints(strip_whitespace=True, max_length=16)]
PersonName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50)]


# --- compounds ----------------------------------------------------------------------------


class CompoundRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    name: str
    community: str
    grid: str
    address: str
    buildings: int
    households: int
    latitude: float | None
    longitude: float | None
    version: int


class CompoundUpdate(Input):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "name": "滨江花园",
                    "address": "朝阳路88号",
                    "buildings": 12,
                    "households": 480,
                    "latitude": 31.7093,
                    "longitude": 118.3621,
                }
            ]
        }
    )

    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)] | None = None
    address: Annotated[str, StringConstraints(max_length=200)] | None = None
    buildings: int | None = Field(None, ge=0, le=1000)
    households: int | None = Field(None, ge=0, le=100_000)
    latitude: float | None = Field(None, ge=-90, le=90)
    longitude: float | None = Field(None, ge=-180, le=180)


# --- residents ----------------------------------------------------------------------------


class BenefitIn(Input):
    item_code: Code
    since: dt.date | None = None


class BenefitRead(BaseModel):
    item_code: str
    since: dt.date | None


class ResidentFacts(Input):
    """The eligibility facts (names as in the rule vocabulary); null means unknown."""

    hukou_local: bool | None = None
    disability_type: DisabilityType | None = None
    disability_grade: int | None = Field(None, ge=1, le=4)
    disability_certificate_no: Annotated[str, StringConstraints(pattern=r"^[0-9A-Za-z]{1,32}$")] | None = None
    serious_illness: bool | None = None
    living_alone: bool | None = None
    dibao: bool | None = None
    employment_status: EmploymentStatus | None = None
    pension_insured: bool | None = None
    children_count: int | None = Field(None, ge=0, le=20)
    housing_difficulty: bool | None = None


# The facts stored as plain columns (the certificate number is personal data: encrypted).
FACT_FIELDS: tuple[str, ...] = tuple(f for f in ResidentFacts.model_fields if f != "disability_certificate_no")

# The resident columns a read shows (``ResidentRead``), and the ciphertexts it masks: no lookup
# hashes, key ids or bookkeeping (the resident reads' and the sync feed's Core rows).
READ_FIELDS: tuple[str, ...] = (
    "id",
    "name",
    "gender",
    "birth_date",
    "id_number_enc",
    "phone_enc",
    "disability_cert_enc",
    "community",
    "grid",
    "compound_code",
    "household_id",
    "building",
    "unit",
    "room",
    *FACT_FIELDS,
    "status",
    "removed_reason",
    "removed_at",
    "surveyed_at",
    "surveyed_by",
    "version",
    "created_at",
    "updated_at",
)


class ResidentCreate(ResidentFacts):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "name": "李秀英",
                    "id_number": "340523194403150029",
                    "gender": "female",
                    "birth_date": "1944-03-15",
                    "phone": "13800000000",
                    "compound": "binjiang",
                    "building": "3",
                    "unit": "2",
                    "room": "401",
                    "hukou_local": True,
                    "living_alone": True,
                    "dibao": False,
                    "pension_insured": True,
                    "children_count": 2,
                    "benefits": [{"item_code": "senior-preferential-card", "since": "2009-05-01"}],
                }
            ]
        }
    )

    name: PersonName
    id_number: Annotated[str, StringConstraints(strip_whitespace=True, max_length=32)]
    gender: Gender | None = Field(None, description="Checked against the ID number if given")
    birth_date: dt.date | None = Field(None, description="Checked against the ID number if given")
    phone: Annotated[str, StringConstraints(max_length=20)] | None = None
    compound: Code
    building: AddressPart = ""
    unit: AddressPart = ""
    room: AddressPart = ""
    benefits: list[BenefitIn] = Field(default_factory=list, max_length=100)

    @model_validator(mode="after")
    def _grade_needs_type(self) -> ResidentCreate:
        if self.disability_grade is not None and self.disability_type is None:
            raise ValueError("disability_grade needs disability_type")
        return self


class ResidentUpdate(ResidentFacts):
    """Only the fields sent change; sending ``null`` for a fact marks it unknown."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "phone": "13900000000",
                    "living_alone": False,
                    "benefits": [{"item_code": "elderly-allowance", "since": "2024-04-01"}],
                }
            ]
        }
    )

    name: PersonName | None = None
    id_number: Annotated[str, StringConstraints(strip_whitespace=True, max_length=32)] | None = None
    phone: Annotated[str, StringConstraints(max_length=20)] | None = None
    compound: Code | None = None
    building: AddressPart | None = None
    unit: AddressPart | None = None
    room: AddressPart | None = None
    benefits: list[BenefitIn] | None = Field(None, max_length=100)


class ResidentRead(BaseModel):
    id: uuid.UUID
    name: str
    gender: Gender
    birth_date: dt.date
    age: int
    id_number_masked: str
    phone_masked: str | None
    community: str
    grid: str
    compound: str
    household_id: uuid.UUID | None
    building: str
    unit: str
    room: str
    hukou_local: bool | None
    disability_type: str | None
    disability_grade: int | None
    disability_certificate_masked: str | None
    serious_illness: bool | None
    living_alone: bool | None
    dibao: bool | None
    employment_status: str | None
    pension_insured: bool | None
    children_count: int | None
    housing_difficulty: bool | None
    benefits: list[BenefitRead]
    groups: list[Group]
    status: ResidentStatus
    removed_reason: RedactedText | None
    removed_at: dt.datetime | None
    surveyed_at: dt.datetime | None
    surveyed_by: str | None
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime


@dataclass
class ResidentQuery:
    """What a resident search asks for (built by the router, read by the repository)."""

    name: str | None = None
    id_last4: str | None = None
    phone_hash: str | None = None
    id_number_hash: str | None = None
    community: str | None = None
    grid: str | None = None
    compound: str | None = None
    building: str | None = None
    unit: str | None = None
    room: str | None = None
    household_id: uuid.UUID | None = None
    groups: Sequence[str] = ()
    disability_type: str | None = None
    disability_grade: int | None = None
    without_benefit: str | None = None
    statuses: Sequence[str] = ("active",)
    today: dt.date | None = None


@dataclass
class ResidentRow:
    """A resident as a bulk upsert takes it (a checked survey row, a demo resident)."""

    number: int  # the row (a sheet's line), for the caller's report
    name: str
    id_number: str
    birth_date: dt.date
    gender: str
    phone: str | None
    compound: str
    building: str
    unit: str
    room: str
    facts: dict[str, Any]
    disability_certificate_no: str | None
    benefits: dict[str, dt.date | None] = field(default_factory=dict)


class ResidentAddress(BaseModel):
    """Where a resident lives, as ``GET /residents/{id}`` shows it to the caller."""

    compound: str
    building: str
    unit: str
    room: str


@dataclass(frozen=True)
class ResidentFace:
    """A resident as one caller may see them (``faces.resident_face``)."""

    name: str
    phone_masked: str | None
    gender: str
    age: int
    address: ResidentAddress


class ResidentBrief(BaseModel):
    """A resident as a case or visit shows them: the name as the caller may read it at
    ``/residents/{id}`` (``name``), the masked name and phone, the address."""

    id: uuid.UUID
    name: str = Field(description="As `GET /residents/{id}` shows it to the caller: in full or masked")
    name_masked: str
    phone_masked: str | None
    compound: str
    building: str
    unit: str
    room: str


class ResidentLookup(Input):
    """Exact lookup by a full ID number or phone, kept out of URLs (and so out of access logs)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"id_number": "340523194403150029"}]})

    id_number: Annotated[str, StringConstraints(strip_whitespace=True, max_length=32)] | None = None
    phone: Annotated[str, StringConstraints(max_length=20)] | None = None

    @model_validator(mode="after")
    def _one_of(self) -> ResidentLookup:
        if not self.id_number and not self.phone:
            raise ValueError("give id_number or phone")
        return self


class ResidentRemove(Input):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"status": "moved_away", "reason": "随子女迁往南京居住"}]}
    )

    status: Literal["moved_away", "deceased"]
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=200)]


def _default_reveal_fields() -> list[RevealField]:
    return ["id_number", "phone"]


class RevealRequest(Input):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"reason": "上门代办高龄补贴，需核对身份证号和联系电话", "fields": ["id_number", "phone"]}]
        }
    )

    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=5, max_length=500)] = Field(
        description="Why the plain values are needed (kept in the audit record)"
    )
    fields: list[RevealField] = Field(default_factory=_default_reveal_fields, min_length=1, max_length=3)


class RevealRead(BaseModel):
    resident_id: uuid.UUID
    id_number: str | None = None
    phone: str | None = None
    disability_certificate_no: str | None = None
    audit_id: int


class RevealAuditRead(BaseModel):
    id: int
    at: dt.datetime
    actor: str
    actor_kind: str
    resident_id: uuid.UUID
    community: str
    fields: list[str]
    reason: RedactedText
    request_id: str | None


# --- households ---------------------------------------------------------------------------


class HouseholdRead(BaseModel):
    id: uuid.UUID
    community: str
    grid: str
    compound: str
    building: str
    unit: str
    room: str
    members: int


class HouseholdDetail(HouseholdRead):
    residents: list[ResidentRead]
