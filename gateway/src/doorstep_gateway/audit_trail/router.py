"""``GET /api/v1/audit/export`` (the auditor's signed JSON Lines), ``GET /api/v1/audit/logins/{username}``
(anyone's login history, for the auditor) and ``GET /api/v1/auth/logins`` (your own)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Request
from fastapi.responses import StreamingResponse
from pydantic import AwareDatetime

from doorstep_shared.app import DbSession, WritesOnRead
from doorstep_shared.auth.permissions import Permission
from doorstep_shared.auth.security import authenticated, authenticated_router, require
from doorstep_shared.auth.tokens import Principal
from doorstep_shared.http import problems
from doorstep_shared.http.pagination import CursorParam, LimitParam, Page, cursor_int, encode_cursor, read_cursor

from ..deps import Signer
from ..state import state_of
from . import service
from .schemas import LoginRecord

router = authenticated_router(tags=["audit"])
Auditor = Annotated[Principal, Depends(require(Permission.AUDIT_READ))]
Staff = Annotated[Principal, Depends(authenticated)]


@router.get(
    "/api/v1/audit/export",
    summary="Export the gateway's audit log as signed JSON Lines (for archiving)",
    description="One entry per line, oldest first, chain fields included; the last line is "
    '`{"signature": "<JWS>"}`: RS256 under the gateway\'s token-signing key (public key in '
    "/.well-known/jwks.json by its `kid`), over the SHA-256 of every byte before it. The export "
    "itself is audited (`audit.exported`).",
    response_class=StreamingResponse,
    responses={
        200: {
            "content": {
                # lines of JSON objects: no one JSON Schema describes the whole body
                "application/jsonl": {"schema": {"description": "One audit entry per line, then the signature line"}},
                # the same bytes, for generated clients that know no JSON Lines type (a file download)
                "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
            },
            "description": "JSON Lines (sent as application/jsonl)",
        },
        **problems(401, 403, 422),
    },
    dependencies=[WritesOnRead],
)
async def export_audit(
    request: Request,
    session: DbSession,
    signer: Signer,
    principal: Auditor,
    since: AwareDatetime | None = None,
    until: AwareDatetime | None = None,
) -> StreamingResponse:
    await service.record_export(session, principal, since, until)
    lines = service.export_lines(state_of(request).sessionmaker, signer, principal, since, until)
    return StreamingResponse(
        lines,
        media_type="application/jsonl",
        headers={"Content-Disposition": 'attachment; filename="gateway-audit.jsonl"'},
    )


def _page(rows: list[object], limit: int) -> Page[LoginRecord]:
    items = [LoginRecord.of(r) for r in rows[:limit]]
    return Page(items=items, next_cursor=encode_cursor([items[-1].id]) if len(rows) > limit else None)


@router.get(
    "/api/v1/audit/logins/{username}",
    response_model=Page[LoginRecord],
    summary="A person's login history (the auditor's)",
    responses=problems(401, 403, 422),
)
async def logins_of(
    username: Annotated[str, Path(max_length=64)],
    session: DbSession,
    _: Auditor,
    cursor: CursorParam = None,
    limit: LimitParam = 50,
) -> Page[LoginRecord]:
    after = read_cursor(cursor, cursor_int)
    rows = await service.logins(session, username, after_id=after[0] if after else None, limit=limit + 1)
    return _page(list(rows), limit)


@router.get(
    "/api/v1/auth/logins",
    response_model=Page[LoginRecord],
    summary="Your own login history: every sign-in and refused attempt naming you, newest first",
    responses=problems(401, 422),
)
async def my_logins(
    session: DbSession,
    principal: Staff,
    cursor: CursorParam = None,
    limit: LimitParam = 50,
) -> Page[LoginRecord]:
    after = read_cursor(cursor, cursor_int)
    rows = await service.logins(session, principal.subject, after_id=after[0] if after else None, limit=limit + 1)
    return _page(list(rows), limit)
