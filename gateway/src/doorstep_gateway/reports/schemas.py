"""Report shapes: one scope's figures, a community's, the handbook's, and the whole summary."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field


class Figures(BaseModel):
    """One scope's figures for the period; null when the service that counts it did not answer."""

    residents_received_at_window: int | None = Field(
        None, description="Consultations and requests logged at the community's service window"
    )
    items_accepted: int | None = Field(None, description="Cases (items) accepted, all channels")
    items_accepted_at_window: int | None = Field(None, description="Cases accepted at the window")
    consultations: int | None = Field(None, description="Consultations and requests logged, all channels")
    doorstep_services: int | None = Field(None, description="Doorstep visits done")
    cases_completed: int | None = Field(None, description="Cases decided (approved or rejected)")
    residents_served: int | None = Field(None, description="Distinct residents with a case accepted")
    people_served_by_stations: int | None = Field(
        None, description="Seats attended at station sessions plus drop-offs collected"
    )


FIGURE_NAMES = list(Figures.model_fields)


class CommunityFigures(Figures):
    community: str
    name: str


class CountyFigures(Figures):
    code: str
    name: str


class HandbookFigures(BaseModel):
    items: int = Field(description="Published items in the handbook")
    proxy_eligible: int = Field(description="Of which fit for doorstep proxy handling")


class DegradedService(BaseModel):
    service: str
    state: str = Field(description="degraded (serving from a last good copy) or unavailable")
    since: dt.datetime | None = Field(None, description="When it entered this state (as the gateway saw it)")
    stale_since: dt.datetime | None = Field(None, description="Degraded: how old the copy it serves from is")
    detail: str = Field("", description="Which of its own dependencies is behind, e.g. `catalog degraded`")


class ReportSummary(BaseModel):
    period_from: dt.date
    period_to: dt.date
    community: str | None = Field(description="The community asked for; null: every community you see")
    generated_at: dt.datetime
    unavailable: list[str] = Field(description="Services that did not answer: their figures are null")
    degraded: list[DegradedService] = Field(
        default_factory=list,
        description="Services that are down or serving degraded (e.g. the proxy from a stale catalogue copy)",
    )
    county: Figures = Field(
        description="Totals over the communities below (a county role's: its county's; else every county's)"
    )
    counties: list[CountyFigures] = Field(
        default_factory=list, description="The totals per county, one entry per county of the communities below"
    )
    communities: list[CommunityFigures]
    handbook: HandbookFigures | None
