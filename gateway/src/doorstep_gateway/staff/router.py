"""Staff account routes (``/api/v1/staff``): create with a one-time code, list, read, change,
deactivate, reactivate, reset. Admins only, each within their scope."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Query

from doorstep_shared.app import DbSession
from doorstep_shared.auth.permissions import Permission, Role
from doorstep_shared.auth.security import authenticated_router, require
from doorstep_shared.auth.tokens import Principal
from doorstep_shared.http import problems
from doorstep_shared.http.pagination import CursorParam, LimitParam, Page, cursor_text, encode_cursor, read_cursor

from ..deps import Pii
from ..identity.schemas import SessionRead
from . import service
from .schemas import StaffCreate, StaffFilter, StaffRead, StaffUpdate, StaffWithCode

router = authenticated_router(prefix="/api/v1/staff", tags=["staff"])
Manager = Annotated[Principal, Depends(require(Permission.STAFF_MANAGE))]
Username = Annotated[str, Path(max_length=64)]
CodeQuery = Annotated[str | None, Query(max_length=64)]


def _with_code(user: object, code: str) -> StaffWithCode:
    return StaffWithCode(**StaffRead.model_validate(user).model_dump(), activation_code=code)


@router.post(
    "",
    response_model=StaffWithCode,
    status_code=201,
    summary="Create a staff account; the one-time activation code is shown only in this answer",
    responses=problems(403, 409, 422),
)
async def create_staff(body: StaffCreate, session: DbSession, principal: Manager, pii: Pii) -> StaffWithCode:
    user, code = await service.create(session, principal, pii, body)
    return _with_code(user, code)


@router.get("", response_model=Page[StaffRead], summary="Staff accounts in your scope", responses=problems(403, 422))
async def list_staff(
    session: DbSession,
    principal: Manager,
    community: CodeQuery = None,
    grid: CodeQuery = None,
    role: Role | None = None,
    active: bool | None = None,
    cursor: CursorParam = None,
    limit: LimitParam = 50,
) -> Page[StaffRead]:
    after = read_cursor(cursor, cursor_text)
    where = StaffFilter(community=community, grid=grid, role=role, active=active)
    users = await service.listed(session, principal, where, after=after[0] if after else None, limit=limit + 1)
    items = [StaffRead.model_validate(u) for u in users[:limit]]
    more = len(users) > limit
    return Page(items=items, next_cursor=encode_cursor([items[-1].username]) if more else None)


@router.get("/{username}", response_model=StaffRead, summary="One staff account", responses=problems(403, 404))
async def read_staff(username: Username, session: DbSession, principal: Manager) -> StaffRead:
    return StaffRead.model_validate(await service.get(session, principal, username))


@router.patch(
    "/{username}",
    response_model=StaffRead,
    summary="Change roles, grid, stations or display name",
    responses=problems(403, 404, 422),
)
async def update_staff(username: Username, body: StaffUpdate, session: DbSession, principal: Manager) -> StaffRead:
    return StaffRead.model_validate(await service.update(session, principal, username, body))


@router.post(
    "/{username}/deactivate",
    response_model=StaffRead,
    summary="Deactivate: sign-in refused and every refresh token revoked now",
    responses=problems(403, 404, 409),
)
async def deactivate_staff(username: Username, session: DbSession, principal: Manager) -> StaffRead:
    return StaffRead.model_validate(await service.deactivate(session, principal, username))


@router.post("/{username}/reactivate", response_model=StaffRead, summary="Reactivate", responses=problems(403, 404))
async def reactivate_staff(username: Username, session: DbSession, principal: Manager) -> StaffRead:
    return StaffRead.model_validate(await service.reactivate(session, principal, username))


@router.post(
    "/{username}/reset",
    response_model=StaffWithCode,
    summary="A new one-time activation code; the old password stops working now",
    responses=problems(403, 404, 409),
)
async def reset_staff(username: Username, session: DbSession, principal: Manager) -> StaffWithCode:
    user, code = await service.reset(session, principal, username)
    return _with_code(user, code)


@router.get(
    "/{username}/sessions",
    response_model=list[SessionRead],
    summary="The account's sessions: devices signed in, first and last seen, addresses",
    responses=problems(403, 404),
)
async def staff_sessions(username: Username, session: DbSession, principal: Manager) -> list[SessionRead]:
    return SessionRead.listed(await service.sessions(session, principal, username), None)


@router.delete(
    "/{username}/sessions/{session_id}",
    status_code=204,
    summary="End one of the account's sessions (a lost phone): its refresh fails at once, "
    "its access token dies at expiry (≤ 15 min)",
    responses=problems(403, 404),
)
async def end_staff_session(
    username: Username, session_id: Annotated[str, Path(max_length=64)], session: DbSession, principal: Manager
) -> None:
    await service.end_session(session, principal, username, session_id)
