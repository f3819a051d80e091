"""Figures route: people served per station over a period."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import Query

from doorstep_shared.app import DbSession
from doorstep_shared.clock import local_today
from doorstep_shared.http import problems
from doorstep_shared.periods import report_period

from ..deps import FiguresReader, Now, api_router
from . import service
from .schemas import FiguresRead

router = api_router()


@router.get(
    "/figures",
    response_model=FiguresRead,
    summary="People served per station: attended seats and collected drop-offs, turnaround",
    tags=["figures"],
    responses=problems(403, 404, 422),
)
async def figures(
    session: DbSession,
    principal: FiguresReader,
    now: Now,
    from_date: Annotated[dt.date | None, Query(alias="from")] = None,
    to_date: Annotated[dt.date | None, Query(alias="to")] = None,
    community: Annotated[str | None, Query(max_length=64)] = None,
) -> FiguresRead:
    period = report_period(from_date, to_date, today=local_today(now), max_years=10)
    return await service.figures(session, principal, period, community)
