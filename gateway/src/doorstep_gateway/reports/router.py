"""County figures: one summary gathered from the three services, as JSON, CSV or an HTML panel.

The gateway adds nothing up on its own data: it asks the proxy (consultations, cases, doorstep
visits, per community), the stations (people served per station) and the catalog (the handbook)
concurrently, with the caller's own token, so each service applies the caller's tenancy. A
service that is down or too slow leaves its figures null and is named in ``unavailable``.
docs/reports.md defines every number.
"""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import io
import logging
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, Literal, TypeVar

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, Field

from doorstep_shared import org
from doorstep_shared.clock import local_today, utcnow
from doorstep_shared.errors import Invalid, NotFound
from doorstep_shared.permissions import Permission
from doorstep_shared.security import current_principal, require
from doorstep_shared.tokens import Principal

from ..forwarding.service_calls import ServiceCallFailed, catalog_view, get_json
from ..responses import PROBLEM
from ..state import state_of
from .dashboard import dashboard_page, panel

logger = logging.getLogger("doorstep.gateway.reports")

T = TypeVar("T")
MIN_YEAR, MAX_YEAR = 2000, 2100
MAX_SPAN_DAYS = 3660

router = APIRouter(prefix="/api/v1/reports", tags=["reports"], dependencies=[Depends(current_principal)])
FiguresReader = Annotated[Principal, Depends(require(Permission.FIGURES_READ))]


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
PROXY_FIGURES = FIGURE_NAMES[:-1]


class CommunityFigures(Figures):
    community: str
    name: str


class HandbookFigures(BaseModel):
    items: int = Field(description="Published items in the handbook")
    proxy_eligible: int = Field(description="Of which fit for doorstep proxy handling")


class ReportSummary(BaseModel):
    period_from: dt.date
    period_to: dt.date
    community: str | None = Field(description="The community asked for; null: every community you see")
    generated_at: dt.datetime
    unavailable: list[str] = Field(description="Services that did not answer: their figures are null")
    county: Figures = Field(description="Totals over the communities below")
    communities: list[CommunityFigures]
    handbook: HandbookFigures | None


# --- gathering --------------------------------------------------------------------------------


async def _guarded(name: str, seconds: float, make: Callable[[], Awaitable[T]]) -> T | None:
    try:
        async with asyncio.timeout(seconds):
            return await make()
    except (ServiceCallFailed, TimeoutError, KeyError, TypeError, ValueError, AttributeError) as exc:
        logger.warning("figures from %s unavailable: %s", name, type(exc).__name__)
        return None


def _period(start: dt.date, end: dt.date) -> dict[str, str]:
    return {"from": start.isoformat(), "to": end.isoformat()}


async def proxy_figures(
    request: Request, communities: list[str], start: dt.date, end: dt.date
) -> dict[str, dict[str, int | None]]:
    """Per community, from the proxy's case figures (consultations, cases, visits)."""

    async def one(community: str) -> tuple[str, dict[str, int | None]]:
        body = await get_json(
            request, "proxy", "/api/v1/proxy/case-figures", {"community": community, **_period(start, end)}
        )
        window = body.get("by_channel", {}).get("window", {})
        return community, {
            "residents_received_at_window": int(body.get("consultations_by_channel", {}).get("window", 0)),
            "items_accepted": int(body["cases_accepted"]),
            "items_accepted_at_window": int(window.get("accepted", 0)),
            "consultations": int(body["consultations"]),
            "doorstep_services": int(body["doorstep_services"]),
            "cases_completed": int(body["cases_completed"]),
            "residents_served": int(body["residents_served"]),
        }

    return dict(await asyncio.gather(*(one(c) for c in communities)))


async def station_figures(request: Request, community: str | None, start: dt.date, end: dt.date) -> dict[str, int]:
    """People served per community, from the stations' per-station figures."""
    params = _period(start, end) | ({"community": community} if community else {})
    body = await get_json(request, "stations", "/api/v1/stations/figures", params)
    out: dict[str, int] = {}
    for station in body.get("stations", []):
        out[str(station["community"])] = out.get(str(station["community"]), 0) + int(station["people_served"])
    return out


async def handbook_figures(request: Request) -> HandbookFigures:
    view = await catalog_view(request)
    return HandbookFigures(
        items=len(view.items), proxy_eligible=sum(1 for i in view.items.values() if i.get("proxy_eligible"))
    )


def scope_of(principal: Principal, community: str | None) -> list[str]:
    if community is not None:
        if community not in org.COMMUNITY_BY_CODE:
            raise Invalid.field("query.community", "unknown community")
        if not principal.sees_community(community):
            raise NotFound("No such community.", code="community_not_found")
        return [community]
    visible = principal.visible_communities
    return [c.code for c in org.COMMUNITIES if visible is None or c.code in visible]


def _check_period(start: dt.date | None, end: dt.date | None) -> tuple[dt.date, dt.date]:
    today = local_today()
    start = start or today.replace(month=1, day=1)
    end = end or today
    for name, value in (("query.from", start), ("query.to", end)):
        if not MIN_YEAR <= value.year <= MAX_YEAR:
            raise Invalid.field(name, f"must be between {MIN_YEAR} and {MAX_YEAR}")
    if end < start:
        raise Invalid.field("query.to", "the period ends before it starts")
    if (end - start).days > MAX_SPAN_DAYS:
        raise Invalid.field("query.to", "a period spans at most ten years")
    return start, end


async def summary_of(
    request: Request, principal: Principal, start: dt.date, end: dt.date, community: str | None
) -> ReportSummary:
    communities = scope_of(principal, community)
    timeout = state_of(request).settings.reports_timeout
    proxy, stations, handbook = await asyncio.gather(
        _guarded("proxy", timeout, lambda: proxy_figures(request, communities, start, end)),
        _guarded("stations", timeout, lambda: station_figures(request, community, start, end)),
        _guarded("catalog", timeout, lambda: handbook_figures(request)),
    )
    unavailable = [
        name for name, got in (("catalog", handbook), ("proxy", proxy), ("stations", stations)) if got is None
    ]
    rows = []
    for code in communities:
        values: dict[str, Any] = dict.fromkeys(FIGURE_NAMES)
        if proxy is not None:
            values.update(proxy.get(code, {}))
        if stations is not None:
            values["people_served_by_stations"] = stations.get(code, 0)
        rows.append(CommunityFigures(community=code, name=org.COMMUNITY_BY_CODE[code].name, **values))
    county: dict[str, Any] = {}
    for name in FIGURE_NAMES:
        counted = [getattr(r, name) for r in rows]
        county[name] = None if any(v is None for v in counted) else sum(counted)
    return ReportSummary(
        period_from=start,
        period_to=end,
        community=community,
        generated_at=utcnow(),
        unavailable=unavailable,
        county=Figures(**county),
        communities=rows,
        handbook=handbook,
    )


# --- renderings -------------------------------------------------------------------------------

CSV_HEADER = ["community", "name", *FIGURE_NAMES]


def to_csv(summary: ReportSummary) -> bytes:
    """One row per community and a county total; empty cells where a service did not answer."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    for row in summary.communities:
        writer.writerow([_cell(row.community), _cell(row.name), *(_cell(getattr(row, n)) for n in FIGURE_NAMES)])
    writer.writerow(
        [org.COUNTY_CODE, f"{org.COUNTY_NAME}（合计）", *(_cell(getattr(summary.county, n)) for n in FIGURE_NAMES)]
    )
    # A byte-order mark so that spreadsheet programs read the Chinese names as UTF-8.
    return "\ufeff".encode() + buffer.getvalue().encode()


def _cell(value: Any) -> str:
    text = "" if value is None else str(value)
    # Cells starting with a formula character are quoted so a spreadsheet shows them as text.
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


@router.get(
    "/summary",
    response_model=ReportSummary,
    summary="County figures for a period: per community and for the county (JSON, CSV or HTML panel)",
    responses={
        200: {
            "content": {
                "text/csv": {"schema": {"type": "string"}},
                "text/html": {"schema": {"type": "string"}},
            },
            "description": "The figures (format=csv or Accept: text/csv → CSV; format=html → the dashboard panel)",
        },
        404: PROBLEM,
        422: PROBLEM,
    },
)
async def summary(
    request: Request,
    principal: FiguresReader,
    period_from: Annotated[dt.date | None, Query(alias="from", description="First day (default: 1 January)")] = None,
    period_to: Annotated[dt.date | None, Query(alias="to", description="Last day (default: today)")] = None,
    community: Annotated[str | None, Query(max_length=64, description="One community's figures only")] = None,
    fmt: Annotated[Literal["json", "csv", "html"] | None, Query(alias="format")] = None,
) -> Any:
    start, end = _check_period(period_from, period_to)
    result = await summary_of(request, principal, start, end, community)
    if fmt is None and "text/csv" in request.headers.get("accept", ""):
        fmt = "csv"
    if fmt == "csv":
        name = f"doorstep-figures-{community or org.COUNTY_CODE}-{start.isoformat()}-{end.isoformat()}.csv"
        return Response(
            to_csv(result),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"},
        )
    if fmt == "html":
        return Response(panel(result), media_type="text/html; charset=utf-8", headers={"Cache-Control": "no-store"})
    return result


async def dashboard(request: Request) -> Response:
    """The dashboard's page: static, no figures in it; it fetches them with the user's token."""
    page, policy = dashboard_page()
    return Response(
        page,
        media_type="text/html; charset=utf-8",
        headers={"Content-Security-Policy": policy, "Cache-Control": "no-cache"},
    )


# A plain (non-API) route: a browser navigates here without a bearer header. The page holds no
# data; every figure it shows comes from /summary, which requires figures:read.
dashboard_router = APIRouter()
dashboard_router.add_route("/api/v1/reports/dashboard", dashboard, methods=["GET"], include_in_schema=False)
