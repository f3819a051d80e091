"""Notifications route: what residents were told (the development notifier's log)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

from doorstep_shared.app import DbSession
from doorstep_shared.http import problems
from doorstep_shared.http.pagination import CursorParam, LimitParam, Page, encode_cursor

from ..deps import BookingsReader, api_router
from . import service
from .schemas import NotificationRead

router = api_router()


@router.get(
    "/notifications",
    response_model=Page[NotificationRead],
    summary="Messages sent to residents (development notifier log), newest first",
    tags=["notifications"],
    responses=problems(403, 404, 422),
)
async def list_notifications(
    session: DbSession,
    principal: BookingsReader,
    station: Annotated[str | None, Query(max_length=64)] = None,
    cursor: CursorParam = None,
    limit: LimitParam = 50,
) -> Page[NotificationRead]:
    items, last = await service.list_notifications(session, principal, station, cursor=cursor, limit=limit)
    return Page(items=items, next_cursor=encode_cursor([last]) if last else None)
