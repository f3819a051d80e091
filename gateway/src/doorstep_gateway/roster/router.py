"""``GET /api/v1/roster/export``: the field staff (social workers, station keepers) as one
document, for the services only (their own tokens, granted ``staff:roster``); the proxy's
worker roster and the stations' keepers follow it (``doorstep_shared.staff_roster``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request, Response
from fastapi.responses import JSONResponse

from doorstep_shared.app import DbSession
from doorstep_shared.auth.permissions import Permission
from doorstep_shared.auth.security import authenticated_router, require
from doorstep_shared.auth.tokens import Principal
from doorstep_shared.http import problems
from doorstep_shared.http.conditional import not_modified, not_modified_response

from ..staff import service as staff

router = authenticated_router(prefix="/api/v1/roster", tags=["staff"])
Follower = Annotated[Principal, Depends(require(Permission.STAFF_ROSTER))]


@router.get(
    "/export",
    summary="The field staff the services follow (services only)",
    description="Every account holding `social_worker` or `station_keeper`, of every county: username, "
    "display name, roles, county, community, grid, stations, active. No phone, no password state. Only "
    "the services' own tokens are granted `staff:roster` (no role, no machine client). `ETag` is the quoted "
    "revision (a content hash); send it back as `If-None-Match` for a 304.",
    responses={304: {"description": "Unchanged since the ETag sent"}, **problems(401, 403)},
)
async def export(request: Request, session: DbSession, _: Follower) -> Response:
    roster = await staff.roster(session)
    etag = f'"{roster.revision}"'
    if not_modified(request, etag):
        return not_modified_response(etag)
    return JSONResponse(roster.to_export(), headers={"ETag": etag, "Cache-Control": "private, no-cache"})
