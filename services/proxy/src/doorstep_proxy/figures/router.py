"""HTTP routes for the figures (thin: parse, call, return)."""

from __future__ import annotations

from doorstep_shared.app import DbSession
from doorstep_shared.auth.security import authenticated_router
from doorstep_shared.http import problems

from ..deps import FiguresQuery, FiguresReader
from . import service
from .schemas import CaseFigures, Figures

router = authenticated_router(prefix="/api/v1/proxy")


@router.get(
    "/figures",
    response_model=Figures,
    tags=["figures"],
    summary="Ledger and demand figures for a community or grid, per grid",
    responses=problems(422),
)
async def get_figures(
    session: DbSession,
    principal: FiguresReader,
    scope: FiguresQuery,
) -> Figures:
    return await service.figures(session, principal, scope)


@router.get(
    "/case-figures",
    response_model=CaseFigures,
    tags=["figures"],
    summary="Consultations, doorstep services and cases (accepted, completed, overdue) for a period",
    responses=problems(422),
)
async def get_case_figures(
    session: DbSession,
    principal: FiguresReader,
    scope: FiguresQuery,
) -> CaseFigures:
    return await service.case_figures(session, principal, scope)
