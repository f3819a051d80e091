"""API shapes of the figures: the ledger and demands per grid, and cases for a period."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from pydantic import BaseModel, Field


@dataclass(frozen=True)
class FiguresScope:
    """Which community or grid, and which period, a figures request asks about."""

    community: str | None
    grid: str | None
    period_from: dt.date | None
    period_to: dt.date | None


class LedgerFigures(BaseModel):
    compounds: int = 0
    households: int = 0
    residents: int = 0
    elderly_80: int = 0
    disabled: int = 0
    serious_illness: int = 0
    living_alone: int = 0
    dibao: int = 0


class GridFigures(LedgerFigures):
    community: str
    grid: str


class DemandFigures(BaseModel):
    total: int
    by_channel: dict[str, int]
    by_status: dict[str, int]


class Figures(BaseModel):
    community: str | None
    grid: str | None
    period_from: dt.date
    period_to: dt.date
    ledger: LedgerFigures
    by_grid: list[GridFigures]
    demands: DemandFigures


class CaseFigures(BaseModel):
    community: str | None
    grid: str | None
    period_from: dt.date
    period_to: dt.date
    consultations: int = Field(description="Demands logged in the period (all channels and kinds)")
    consultations_by_channel: dict[str, int]
    doorstep_services: int = Field(description="Visits done in the period")
    cases_accepted: int
    cases_completed: int = Field(description="Cases approved or rejected in the period")
    cases_overdue: int = Field(description="Open cases past their due date today")
    residents_served: int = Field(description="Distinct residents with a case accepted in the period")
    by_item: dict[str, dict[str, int]]
    by_channel: dict[str, dict[str, int]]
    by_worker: dict[str, dict[str, int]]
    by_grid: dict[str, dict[str, int]]
