"""Eligibility route: which items a resident qualifies for, and why."""

from __future__ import annotations

from fastapi import Request

from doorstep_shared.app import DbSession
from doorstep_shared.http import problems

from ..deps import CatalogReader, Index, api_router, county_of
from . import service
from .schemas import EligibilityRequest, EligibilityResponse

router = api_router()


@router.post(
    "/eligibility/evaluate",
    response_model=EligibilityResponse,
    summary="Which items is this resident eligible for, and why",
    tags=["eligibility"],
    responses=problems(422),
)
async def evaluate(
    request: Request, session: DbSession, principal: CatalogReader, index: Index, body: EligibilityRequest
) -> EligibilityResponse:
    return await service.evaluate(session, index, county_of(request, principal), body)
