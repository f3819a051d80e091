"""Directory API shapes: the records of each kind (read, create, update), staff users, and the
import report."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

Code = Annotated[str, Field(pattern=r"^[a-z0-9_-]{1,64}$", description="lower-case letters, digits, - and _")]
Name = Annotated[str, Field(min_length=1, max_length=100)]
Kind = Literal["counties", "communities", "grids", "compounds"]


class Lifetime(BaseModel):
    active_from: dt.datetime
    active_to: dt.datetime | None = Field(description="null: active with no end")


class CountyRead(Lifetime):
    model_config = ConfigDict(from_attributes=True)

    code: str
    name: str


class GridRead(Lifetime):
    model_config = ConfigDict(from_attributes=True)

    code: str
    name: str
    community: str
    number: int


class CommunityRead(Lifetime):
    code: str
    name: str
    county: str | None
    placeholder: bool
    grids: list[GridRead]


class CompoundRead(Lifetime):
    model_config = ConfigDict(from_attributes=True)

    code: str
    name: str
    community: str
    grid: str
    address: str
    latitude: float | None
    longitude: float | None
    buildings: int | None
    households: int | None
    placeholder: bool


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CountyCreate(_Input):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"code": "hanshan", "name": "含山县"}]})

    code: Code
    name: Name


class CommunityCreate(_Input):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"code": "huancheng", "name": "环城社区", "county": "hanshan"}]}
    )

    code: Code
    name: Name
    county: Code
    placeholder: bool = False


class GridCreate(_Input):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"code": "huancheng-g1", "name": "第一网格", "community": "huancheng"}]},
    )

    code: Code
    name: Name
    community: Code
    number: int | None = Field(None, ge=1, le=10_000, description="default: the community's next number")


class Place(_Input):
    address: str = Field("", max_length=200)
    latitude: float | None = Field(None, ge=-90, le=90)
    longitude: float | None = Field(None, ge=-180, le=180)
    buildings: int | None = Field(None, ge=0, le=1_000_000)
    households: int | None = Field(None, ge=0, le=1_000_000)
    placeholder: bool = False


class CompoundCreate(Place):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "code": "xinyuan",
                    "name": "新苑小区",
                    "grid": "huancheng-g1",
                    "address": "含山县环城社区新苑小区",
                    "latitude": 31.73,
                    "longitude": 118.1,
                    "buildings": 6,
                    "households": 240,
                }
            ]
        },
    )

    code: Code
    name: Name
    grid: Code = Field(description="the community follows from the grid")


class Ending(_Input):
    active_to: AwareDatetime | None = Field(
        None,
        description="Deactivate from this instant, with its offset (its children must end first); null: active again",
    )


class CountyUpdate(Ending):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"name": "含山县"}]})

    name: Name | None = None


class CommunityUpdate(Ending):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"name": "环城社区"}]})

    name: Name | None = None
    placeholder: bool | None = None


class GridUpdate(Ending):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"name": "第一网格（新）"}]})

    name: Name | None = None


class CompoundUpdate(Ending):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"grid": "chaoyang-g5"}]})

    name: Name | None = None
    grid: Code | None = Field(None, description="Redraw: move the compound to another grid (its community follows)")
    address: str | None = Field(None, max_length=200)
    latitude: float | None = Field(None, ge=-90, le=90)
    longitude: float | None = Field(None, ge=-180, le=180)
    buildings: int | None = Field(None, ge=0, le=1_000_000)
    households: int | None = Field(None, ge=0, le=1_000_000)
    placeholder: bool | None = None


class ChangeRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    kind: str
    code: str
    action: str
    changes: dict[str, list[object]]
    actor: str
    source: Literal["api", "import", "seed"]
    at: dt.datetime


class RowProblem(BaseModel):
    field: str
    code: str
    detail: str


class RecordChange(BaseModel):
    kind: Kind
    code: str
    action: Literal["created", "updated"]
    changes: dict[str, list[object]] = Field(
        default_factory=dict, description="field → [before, after] (empty for a new record: its history has them)"
    )


class ImportRow(BaseModel):
    line: int = Field(description="line in the file (the header is line 1)")
    action: Literal["created", "updated", "unchanged", "error"]
    changes: list[RecordChange] = Field(default_factory=list)
    errors: list[RowProblem] = Field(default_factory=list)


class ImportReport(BaseModel):
    dry_run: bool
    applied: bool = Field(description="false: nothing was written (a dry run, or errors)")
    revision: str = Field(description="the directory's revision after the import (before, when nothing applied)")
    counts: dict[str, int] = Field(description="rows per action")
    rows: list[ImportRow]


class UserRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    username: str
    display_name: str
    roles: list[str]
    community: str | None
    grid: str | None
    active: bool
