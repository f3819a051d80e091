"""Report routes: the county figures as JSON, CSV or an HTML panel, and the dashboard page."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response

from doorstep_shared.auth.permissions import Permission
from doorstep_shared.auth.security import authenticated_router, require
from doorstep_shared.auth.tokens import Principal
from doorstep_shared.http import problems

from ..deps import CurrentDirectory, directory_of
from . import service
from .dashboard import dashboard_page, panel
from .schemas import ReportSummary
from .sheet import to_csv

router = authenticated_router(prefix="/api/v1/reports", tags=["reports"])
FiguresReader = Annotated[Principal, Depends(require(Permission.FIGURES_READ))]


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
        **problems(404, 422),
    },
)
async def summary(
    request: Request,
    principal: FiguresReader,
    directory: CurrentDirectory,
    period_from: Annotated[dt.date | None, Query(alias="from", description="First day (default: 1 January)")] = None,
    period_to: Annotated[dt.date | None, Query(alias="to", description="Last day (default: today)")] = None,
    community: Annotated[str | None, Query(max_length=64, description="One community's figures only")] = None,
    fmt: Annotated[Literal["json", "csv", "html"] | None, Query(alias="format")] = None,
) -> Any:
    start, end = service.check_period(period_from, period_to)
    result = await service.summary_of(request, principal, start, end, community, directory)
    county = service.county_of(directory, result)
    if fmt is None and "text/csv" in request.headers.get("accept", ""):
        fmt = "csv"
    if fmt == "csv":
        name = f"doorstep-figures-{community or county[0]}-{start.isoformat()}-{end.isoformat()}.csv"
        return Response(
            to_csv(result, county),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"},
        )
    if fmt == "html":
        scope = service.name_of(directory, community) if community else county[1]
        return Response(
            panel(result, scope), media_type="text/html; charset=utf-8", headers={"Cache-Control": "no-store"}
        )
    return result


async def dashboard(request: Request) -> Response:
    """The dashboard's page: static, no figures in it; it fetches them with the user's token."""
    directory = await directory_of(request)
    county = directory.counties[0].name if len(directory.counties) == 1 else ""
    page, policy = dashboard_page(county, tuple((c.code, c.name) for c in directory.communities))
    return Response(
        page,
        media_type="text/html; charset=utf-8",
        headers={"Content-Security-Policy": policy, "Cache-Control": "no-cache"},
    )


# A plain (non-API) route: a browser navigates here without a bearer header. The page holds no
# data; every figure it shows comes from /summary, which requires figures:read.
dashboard_router = APIRouter()
dashboard_router.add_route("/api/v1/reports/dashboard", dashboard, methods=["GET"], include_in_schema=False)
