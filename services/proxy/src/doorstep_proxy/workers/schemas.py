"""API shapes for proxy workers' field profiles and grid teams."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from ..inputs import Code, Input

WorkerStatus = Literal["active", "on_leave"]
Username = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9._-]{0,63}$")]


class WorkerUpsert(Input):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "display_name": "第六网格社工",
                    "community": "chaoyang",
                    "grids": ["chaoyang-g6"],
                    "categories": ["elderly-livelihood", "disability"],
                    "status": "active",
                }
            ]
        }
    )

    display_name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50)]
    community: Code | None = Field(None, description="Default: the caller's community")
    grids: list[Code] = Field(default_factory=list, max_length=16)
    categories: list[Code] = Field(
        default_factory=list, max_length=20, description="Catalogue category codes known well"
    )
    status: WorkerStatus = "active"


class WorkerRead(BaseModel):
    username: str
    display_name: str
    community: str
    grids: list[str]
    categories: list[str]
    status: WorkerStatus
    version: int
    updated_at: dt.datetime


class GridTeam(BaseModel):
    grid: str
    community: str
    workers: list[WorkerRead]
