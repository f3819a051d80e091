"""API shapes for proxy workers' field profiles and grid teams."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from ..inputs import Code, Input

# "inactive": the staff account is deactivated (or no longer a social worker); set only by the
# staff roster, never through the proxy's API.
WorkerStatus = Literal["active", "on_leave", "inactive"]
Availability = Literal["active", "on_leave"]
Username = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9._-]{0,63}$")]


class WorkerFieldProfile(Input):
    """What the proxy owns of a worker: the item categories they know, their availability. Who
    they are (name, community, grid, active) comes from the gateway's staff records."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"categories": ["elderly-livelihood", "disability"], "status": "on_leave"}]}
    )

    categories: list[Code] = Field(
        default_factory=list, max_length=20, description="Catalogue category codes known well"
    )
    status: Availability = Field("active", description="Availability: on_leave keeps them off new work")


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
