"""Opening-hours routes: read the hours and the open state; add and remove rules and exceptions."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import Query, Request, Response

from doorstep_shared.app import DbSession
from doorstep_shared.http import problems
from doorstep_shared.http.errors import Invalid
from doorstep_shared.periods import check_year

from ..deps import Code, Id, Manager, Now, Reader, api_router, served
from ..snapshot import reads
from . import service
from .schemas import HoursExceptionCreate, HoursExceptionRead, HoursRead, HoursRuleCreate, HoursRuleRead

router = api_router()


@router.get(
    "/stations/{code}/hours",
    response_model=HoursRead,
    summary="Opening hours: rules, exceptions, open at a time (default now), next opening, a week",
    tags=["hours"],
    responses=problems(403, 404, 422),
)
async def get_hours(
    _: Reader,
    request: Request,
    now: Now,
    code: Code,
    service_code: Annotated[str | None, Query(alias="service", max_length=64)] = None,
    at: Annotated[dt.datetime | None, Query(description="Instant to evaluate (ISO 8601 with offset)")] = None,
) -> Response:
    # From the snapshot (no database session); the state and the week from the clock.
    if at is not None and at.tzinfo is None:
        raise Invalid.field("query.at", "needs a timezone offset, e.g. +08:00")
    check_year("query.at", at)
    return reads.hours_response(await served(request), code, service_code, at or now)


@router.post(
    "/stations/{code}/hours/rules",
    response_model=list[HoursRuleRead],
    status_code=201,
    summary="Add a weekly opening window on some weekdays (optionally from/to dates)",
    tags=["hours"],
    responses=problems(403, 404, 422),
)
async def add_rules(session: DbSession, principal: Manager, code: Code, body: HoursRuleCreate) -> list[HoursRuleRead]:
    return await service.add_rules(session, principal, code, body)


@router.delete(
    "/stations/{code}/hours/rules/{rule_id}",
    status_code=204,
    summary="Remove a weekly opening rule",
    tags=["hours"],
    responses=problems(403, 404),
)
async def delete_rule(session: DbSession, principal: Manager, code: Code, rule_id: Id) -> Response:
    await service.delete_rule(session, principal, code, rule_id)
    return Response(status_code=204)


@router.post(
    "/stations/{code}/hours/exceptions",
    response_model=HoursExceptionRead,
    status_code=201,
    summary="Add a closure (holiday) or an extra opening",
    tags=["hours"],
    responses=problems(403, 404, 422),
)
async def add_exception(
    session: DbSession, principal: Manager, code: Code, body: HoursExceptionCreate
) -> HoursExceptionRead:
    return await service.add_exception(session, principal, code, body)


@router.delete(
    "/stations/{code}/hours/exceptions/{exception_id}",
    status_code=204,
    summary="Remove an opening-hours exception",
    tags=["hours"],
    responses=problems(403, 404),
)
async def delete_exception(session: DbSession, principal: Manager, code: Code, exception_id: Id) -> Response:
    await service.delete_exception(session, principal, code, exception_id)
    return Response(status_code=204)
