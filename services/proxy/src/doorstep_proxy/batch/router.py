"""``POST /api/v1/proxy/batch``: an offline queue replayed in one round trip (CASES.md, "Batch")."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Request

from doorstep_shared.auth.security import authenticated
from doorstep_shared.http import problems

from . import service
from .schemas import MAX_OPERATIONS, BatchRequest, BatchResult

router = APIRouter(prefix="/api/v1/proxy", tags=["sync"], dependencies=[Depends(authenticated)])


@router.post(
    "/batch",
    response_model=BatchResult,
    status_code=200,
    summary="Apply up to 100 proxy operations in order, one result each, each as if sent alone",
    description=f"`operations`: at most {MAX_OPERATIONS} `{{method, path, headers: {{Idempotency-Key, "
    "If-Match, If-None-Match}, body}}`, run in order through the proxy itself: each has the "
    "permissions, idempotency and If-Match checks it would have alone, and a failing one neither "
    "stops nor undoes the others. `Doorstep-Batch-Size` must equal the number of operations (the "
    "gateway's rate limit counts operations). `atomic: true` is refused (`atomic_unsupported`).",
    operation_id="proxy_batch",
    responses=problems(422),
)
async def run_batch(
    request: Request,
    batch: BatchRequest,
    batch_size: Annotated[str | None, Header(alias=service.SIZE_HEADER, description="The number of operations")] = None,
    batch_key: Annotated[
        str | None, Header(alias="Idempotency-Key", description="Refused: keys go on the operations")
    ] = None,
) -> BatchResult:
    checked = service.check(batch, batch_size, batch_key)
    return BatchResult(results=await service.run(request.app, request.scope, batch, checked))
