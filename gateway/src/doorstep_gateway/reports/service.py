"""Gathering the county figures: the proxy, the stations and the catalog asked concurrently, as the caller.

The gateway adds nothing up on its own data: it asks the proxy (consultations, cases, doorstep
visits, per community), the stations (people served per station) and the catalog (the handbook)
concurrently, with the caller's own token, so each service applies the caller's tenancy. A
service that is down or too slow leaves its figures null and is named in ``unavailable``.
docs/reports.md defines every number.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from fastapi import Request

from doorstep_shared.auth.tokens import Principal
from doorstep_shared.clock import local_today, utcnow
from doorstep_shared.directory import Directory
from doorstep_shared.http.errors import Invalid, NotFound
from doorstep_shared.periods import report_period

from ..forwarding.service_calls import ServiceCallFailed, catalog_view, get_json
from ..state import state_of
from .schemas import (
    FIGURE_NAMES,
    CommunityFigures,
    CountyFigures,
    DegradedService,
    Figures,
    HandbookFigures,
    ReportSummary,
)

logger = logging.getLogger("doorstep.gateway.reports")

T = TypeVar("T")


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


def scope_of(principal: Principal, community: str | None, directory: Directory) -> list[str]:
    """The communities a summary covers: the one asked for, or every one the caller sees (a
    county role: its county's, read from the directory as it is now)."""
    principal = principal.within(directory)
    if community is not None:
        if directory.community(community) is None:
            raise Invalid.field("query.community", "unknown community")
        if not principal.sees_community(community):
            raise NotFound("No such community.", code="community_not_found")
        return [community]
    visible = principal.visible_communities
    return [c.code for c in directory.communities if visible is None or c.code in visible]


def check_period(start: dt.date | None, end: dt.date | None) -> tuple[dt.date, dt.date]:
    """The days a report covers: by default this year up to today, at most ten years."""
    today = local_today()
    period = report_period(start, end, today=today, default_from=today.replace(month=1, day=1), max_years=10)
    return period.start, period.end


async def summary_of(
    request: Request, principal: Principal, start: dt.date, end: dt.date, community: str | None, directory: Directory
) -> ReportSummary:
    communities = scope_of(principal, community, directory)
    timeout = state_of(request).settings.reports_timeout
    dependencies = state_of(request).dependencies
    proxy, stations, handbook, _ = await asyncio.gather(
        _guarded("proxy", timeout, lambda: proxy_figures(request, communities, start, end)),
        _guarded("stations", timeout, lambda: station_figures(request, community, start, end)),
        _guarded("catalog", timeout, lambda: handbook_figures(request)),
        dependencies.probe(within=timeout),
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
        rows.append(CommunityFigures(community=code, name=name_of(directory, code), **values))
    by_county: dict[str, list[CommunityFigures]] = {}
    for row in rows:
        by_county.setdefault(directory.county_of(row.community) or "", []).append(row)
    counties = [
        CountyFigures(code=code, name=found.name if (found := directory.county(code)) else code, **_totals(members))
        for code, members in by_county.items()
    ]
    return ReportSummary(
        period_from=start,
        period_to=end,
        community=community,
        generated_at=utcnow(),
        unavailable=unavailable,
        degraded=[
            DegradedService(
                service=d.name, state=d.state.value, since=d.since, stale_since=d.stale_since, detail=d.detail
            )
            for d in dependencies.not_ok()
        ],
        county=Figures(**_totals(rows)),
        counties=counties,
        communities=rows,
        handbook=handbook,
    )


def _totals(rows: list[CommunityFigures]) -> dict[str, int | None]:
    """Each figure summed over ``rows``; null where a service did not answer."""
    totals: dict[str, int | None] = {}
    for name in FIGURE_NAMES:
        counted = [getattr(r, name) for r in rows]
        totals[name] = None if any(v is None for v in counted) else sum(counted)
    return totals


def county_of(directory: Directory, summary: ReportSummary) -> tuple[str, str]:
    """The county a summary's communities lie in (code, name); ``all`` when they span several."""
    codes = {directory.county_of(r.community) for r in summary.communities} or {c.code for c in directory.counties}
    county = directory.county(codes.pop()) if len(codes) == 1 else None
    return (county.code, county.name) if county else ("all", "全部")


def name_of(directory: Directory, community: str) -> str:
    found = directory.community(community)
    return found.name if found else community
