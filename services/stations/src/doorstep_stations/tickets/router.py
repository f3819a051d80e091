"""Drop-off ticket routes."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Query, Request, Response

from doorstep_shared.app import DbSession
from doorstep_shared.http import check_if_match, problems
from doorstep_shared.http.errors import problem_response
from doorstep_shared.http.pagination import CursorParam, LimitParam, Page, cursor_int, encode_cursor, read_cursor
from doorstep_shared.http.sparse import json_page

from ..deps import Code, Id, Now, Pii, Settings, TicketsReader, TicketsWriter, api_router
from ..http import ticket_etag
from . import service
from .models import OPEN_TICKET_STATUSES, TicketStatus
from .schemas import TicketCollect, TicketCreate, TicketCreated, TicketRead, TicketStatusChange

router = api_router(tags=["tickets"])


@router.post(
    "/stations/{code}/tickets",
    response_model=TicketCreated,
    status_code=201,
    summary="Log a drop-off: who, phone, what was left, what to do; returns the claim code once",
    responses=problems(403, 404, 422),
)
async def create_ticket(
    session: DbSession,
    principal: TicketsWriter,
    cipher: Pii,
    now: Now,
    code: Code,
    body: TicketCreate,
) -> TicketCreated:
    return await service.create_ticket(session, cipher, principal, code, body, now)


@router.get(
    "/stations/{code}/tickets",
    response_model=Page[TicketRead],
    summary="A station's tickets (default: the open ones), oldest first, with their age",
    responses=problems(403, 404, 422),
)
async def list_tickets(
    session: DbSession,
    principal: TicketsReader,
    now: Now,
    code: Code,
    status: Annotated[
        list[TicketStatus | Literal["open", "all"]] | None,
        Query(max_length=6, description="Statuses, `open` (default) or `all`"),
    ] = None,
    cursor: CursorParam = None,
    limit: LimitParam = 50,
) -> Response:
    wanted = status or ["open"]
    statuses: list[str] | None = []
    assert statuses is not None
    for s in wanted:
        if s == "all":
            statuses = None
            break
        statuses.extend(OPEN_TICKET_STATUSES if s == "open" else [s])
    values = read_cursor(cursor, cursor_int)
    after = values[0] if values else None
    items, last = await service.list_tickets(
        session, principal, code, statuses=statuses, after_id=after, limit=limit, now=now
    )
    # Plain dicts written as JSON once (the lean path); the page is still the documented Page[TicketRead].
    return json_page(items, encode_cursor([last]) if last else None, None)


@router.get(
    "/tickets/{ticket_id}",
    response_model=TicketRead,
    summary="One drop-off ticket",
    responses=problems(403, 404),
)
async def get_ticket(
    session: DbSession, principal: TicketsReader, now: Now, response: Response, ticket_id: Id
) -> TicketRead:
    ticket = await service.read_ticket(session, principal, ticket_id, now)
    response.headers["ETag"] = ticket_etag(ticket)
    return ticket


@router.post(
    "/tickets/{ticket_id}/status",
    response_model=TicketRead,
    summary="Move a ticket on: in_progress, ready (the resident is notified) or returned",
    responses=problems(403, 404, 409, 412, 422),
)
async def change_status(
    session: DbSession,
    principal: TicketsWriter,
    now: Now,
    request: Request,
    response: Response,
    ticket_id: Id,
    body: TicketStatusChange,
) -> TicketRead:
    if request.headers.get("if-match") is not None:
        current = await service.read_ticket(session, principal, ticket_id, now)
        check_if_match(request.headers.get("if-match"), ticket_etag(current))
    ticket = await service.change_status(session, principal, ticket_id, body, now)
    response.headers["ETag"] = ticket_etag(ticket)
    return ticket


@router.post(
    "/tickets/{ticket_id}/collect",
    response_model=TicketRead,
    summary="Hand the item back: needs the claim code or the phone's last four digits",
    responses=problems(403, 404, 409, 422),
)
async def collect(
    session: DbSession,
    principal: TicketsWriter,
    cipher: Pii,
    settings: Settings,
    now: Now,
    ticket_id: Id,
    body: TicketCollect,
) -> TicketRead | Response:
    outcome = await service.collect(session, cipher, principal, ticket_id, body, now, settings.claim_max_attempts)
    if outcome.ticket is None:
        # Returned, not raised: the request's session commits the attempt counter.
        return problem_response(
            403,
            "claim_locked" if outcome.locked else "wrong_claim_code",
            "Wrong claim code or phone digits." + (" The ticket is now locked." if outcome.locked else ""),
            title="Forbidden",
            failed_attempts=outcome.attempts,
            attempts_left=outcome.attempts_left,
        )
    return outcome.ticket


@router.post(
    "/tickets/{ticket_id}/unlock",
    response_model=TicketRead,
    summary="Reset the wrong-attempt counter of a locked ticket",
    responses=problems(403, 404),
)
async def unlock(session: DbSession, principal: TicketsWriter, now: Now, ticket_id: Id) -> TicketRead:
    return await service.unlock(session, principal, ticket_id, now)
