"""The purge on demand: ``POST /api/v1/proxy/admin/purge`` (county admins)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from doorstep_shared.app import DbSession
from doorstep_shared.auth.permissions import Permission
from doorstep_shared.auth.security import authenticated_router, require
from doorstep_shared.auth.tokens import Principal
from doorstep_shared.http import problems

from ..deps import Cipher
from ..state import state_of
from . import service
from .schemas import PurgeResult

router = authenticated_router(prefix="/api/v1/proxy/admin", tags=["retention"])


@router.post(
    "/purge",
    response_model=PurgeResult,
    status_code=200,
    summary="Erase the personal data of residents off the register longer than the retention period",
    description="County admins only (`users:manage`). Idempotent: residents already erased are "
    "skipped; each erasure is recorded in the reveal audit trail.",
    operation_id="proxy_retention_purge",
    responses=problems(),
)
async def purge_now(
    request: Request,
    session: DbSession,
    cipher: Cipher,
    principal: Annotated[Principal, Depends(require(Permission.USERS_MANAGE))],
) -> PurgeResult:
    state = state_of(request)
    result = await service.purge(session, cipher, retention_days=state.settings.retention_days, actor=principal)
    service.record_erasures(state.retention_erased, result)
    return result
