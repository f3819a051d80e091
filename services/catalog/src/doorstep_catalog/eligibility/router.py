"""Eligibility route: which items a resident qualifies for, and why."""

from __future__ import annotations

from doorstep_shared.app import DbSession

from ..deps import CatalogReader, Index, api_router
from ..http import R_WRITE
from . import service
from .schemas import EligibilityRequest, EligibilityResponse

router = api_router()


@router.post(
    "/eligibility/evaluate",
    response_model=EligibilityResponse,
    summary="Which items is this resident eligible for, and why",
    tags=["eligibility"],
    responses={422: R_WRITE[422]},
)
async def evaluate(session: DbSession, _: CatalogReader, index: Index, body: EligibilityRequest) -> EligibilityResponse:
    return await service.evaluate(session, index, body)
