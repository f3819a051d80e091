"""Stations HTTP routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from doorstep_shared.app import DbSession
from doorstep_shared.permissions import Permission
from doorstep_shared.security import current_principal, require
from doorstep_shared.tokens import Principal

from . import service
from .schemas import StationRead

router = APIRouter(
    prefix="/api/v1/stations", tags=["stations"], dependencies=[Depends(current_principal)]
)


@router.get(
    "/stations",
    response_model=list[StationRead],
    summary="List party-mass service stations (党群驿站)",
)
async def list_stations(
    session: DbSession, _: Annotated[Principal, Depends(require(Permission.STATIONS_READ))]
) -> list[StationRead]:
    return [StationRead.model_validate(s) for s in await service.stations(session)]
