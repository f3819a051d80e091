"""Sessions and bookings routes."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import Depends, Query, Response

from doorstep_shared.app import DbSession
from doorstep_shared.http import problems
from doorstep_shared.http.errors import Invalid
from doorstep_shared.http.pagination import (
    CursorParam,
    LimitParam,
    Page,
    cursor_int,
    cursor_text,
    cursor_timestamp,
    encode_cursor,
    read_cursor,
)
from doorstep_shared.http.sparse import Fields, json_page, sparse_fields, sparse_page
from doorstep_shared.periods import check_year

from ..deps import BookingsReader, BookingsWriter, Code, Id, Manager, Now, Pii, Reader, Settings, api_router
from . import service
from .models import BookingStatus
from .schemas import BookingCreate, BookingRead, SessionCancel, SessionCreate, SessionRead

router = api_router()
BookingFields = Annotated[Fields, Depends(sparse_fields(BookingRead))]


@router.get(
    "/stations/{code}/services/{service_code}/sessions",
    response_model=Page[SessionRead],
    summary="Sessions (class) or slots (appointment) of a service, by start time",
    tags=["sessions"],
    responses=problems(403, 404, 422),
)
async def list_sessions(
    session: DbSession,
    _: Reader,
    code: Code,
    service_code: Code,
    after: Annotated[dt.datetime | None, Query(alias="from")] = None,
    before: Annotated[dt.datetime | None, Query(alias="to")] = None,
    cursor: CursorParam = None,
    limit: LimitParam = 50,
) -> Response:
    for name, value in (("query.from", after), ("query.to", before)):
        if value is not None and value.tzinfo is None:
            raise Invalid.field(name, "needs a timezone offset")
        check_year(name, value)
    values = read_cursor(cursor, cursor_text, cursor_int)
    position = None
    if values is not None:
        cursor_timestamp(values[0])  # kept as written: the repository parses it again
        position = (values[0], values[1])
    # The lean path: Core rows of the columns shown, dicts in SessionRead's shape, written as JSON
    # once (the response model stays for the document).
    items, next_position = await service.list_sessions(
        session, code, service_code, after=after, before=before, cursor=position, limit=limit
    )
    return json_page(items, encode_cursor(list(next_position)) if next_position else None, None)


@router.post(
    "/stations/{code}/services/{service_code}/sessions",
    response_model=SessionRead,
    status_code=201,
    summary="Schedule a class session or an appointment slot",
    tags=["sessions"],
    responses=problems(403, 404, 422),
)
async def create_session(
    session: DbSession,
    principal: Manager,
    settings: Settings,
    code: Code,
    service_code: Code,
    body: SessionCreate,
) -> SessionRead:
    return await service.create_session(
        session,
        principal,
        code,
        service_code,
        body,
        dt.timedelta(hours=settings.cancel_cutoff_hours),
    )


@router.get(
    "/sessions/{session_id}",
    response_model=SessionRead,
    summary="One session: seats booked and free",
    tags=["sessions"],
    responses=problems(403, 404),
)
async def get_session(session: DbSession, _: Reader, session_id: Id) -> SessionRead:
    return await service.get_session(session, session_id)


@router.post(
    "/sessions/{session_id}/cancel",
    response_model=SessionRead,
    summary="Cancel a session; everyone booked or waiting is told",
    tags=["sessions"],
    responses=problems(403, 404, 422),
)
async def cancel_session(
    session: DbSession, principal: Manager, now: Now, session_id: Id, body: SessionCancel
) -> SessionRead:
    return await service.cancel_session(session, principal, session_id, body.reason, now)


@router.post(
    "/sessions/{session_id}/bookings",
    response_model=BookingRead,
    status_code=201,
    summary="Book seats (confirmed if free, else waitlisted); one booking per phone",
    tags=["bookings"],
    responses=problems(403, 404, 409, 422),
)
async def book(
    session: DbSession,
    principal: BookingsWriter,
    cipher: Pii,
    now: Now,
    session_id: Id,
    body: BookingCreate,
) -> BookingRead:
    return await service.book(session, cipher, principal, session_id, body, now)


@router.get(
    "/sessions/{session_id}/bookings",
    response_model=sparse_page(BookingRead),
    summary="Bookings of a session (names and phones masked)",
    tags=["bookings"],
    responses=problems(403, 404, 422),
)
async def list_bookings(
    session: DbSession,
    principal: BookingsReader,
    session_id: Id,
    status: Annotated[list[BookingStatus] | None, Query(max_length=5)] = None,
    fields: BookingFields = None,
    cursor: CursorParam = None,
    limit: LimitParam = 50,
) -> Response:
    values = read_cursor(cursor, cursor_int)
    after = values[0] if values else None
    items, last = await service.list_bookings(
        session,
        principal,
        session_id,
        statuses=[s.value for s in status] if status else None,
        after_id=after,
        limit=limit,
    )
    # The lean path, as the sessions' list: dicts in BookingRead's shape, trimmed to ``fields``.
    return json_page(items, encode_cursor([last]) if last else None, fields)


@router.get(
    "/bookings/{booking_id}",
    response_model=BookingRead,
    summary="One booking",
    tags=["bookings"],
    responses=problems(403, 404),
)
async def get_booking(session: DbSession, principal: BookingsReader, booking_id: Id) -> BookingRead:
    return await service.read_booking(session, principal, booking_id)


@router.post(
    "/bookings/{booking_id}/cancel",
    response_model=BookingRead,
    summary="Cancel a booking (until the cut-off); freed seats go to the waitlist",
    tags=["bookings"],
    responses=problems(403, 404, 409, 422),
)
async def cancel_booking(session: DbSession, principal: BookingsWriter, now: Now, booking_id: Id) -> BookingRead:
    return await service.cancel_booking(session, principal, booking_id, now)


@router.post(
    "/bookings/{booking_id}/check-in",
    response_model=BookingRead,
    summary="Check a resident in at the door",
    tags=["bookings"],
    responses=problems(403, 404, 422),
)
async def check_in(session: DbSession, principal: BookingsWriter, now: Now, booking_id: Id) -> BookingRead:
    return await service.check_in(session, principal, booking_id, now)


@router.post(
    "/bookings/{booking_id}/no-show",
    response_model=BookingRead,
    summary="Mark a confirmed booking as a no-show after the start",
    tags=["bookings"],
    responses=problems(403, 404, 422),
)
async def no_show(session: DbSession, principal: BookingsWriter, now: Now, booking_id: Id) -> BookingRead:
    return await service.mark_no_show(session, principal, booking_id, now)
