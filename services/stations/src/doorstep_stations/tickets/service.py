"""Drop-off tickets: a garment left with a note, worked on, handed back to the right person.

Ticket numbers are short and per station (``SH-007``), taken by an atomic increment of the
station's counter. Claim codes are six characters from an unambiguous alphabet drawn with
``secrets``; only their keyed hash is stored, so the code is shown once, at creation.
Collection needs the claim code or the phone's last four digits; wrong attempts are counted
and the ticket locks after ``claim_max_attempts`` until a manager unlocks it.
"""

from __future__ import annotations

import datetime as dt
import hmac
import secrets
from dataclasses import dataclass
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from doorstep_shared.auth.tokens import Principal
from doorstep_shared.db.outbox import OutboxMessage
from doorstep_shared.http.errors import Conflict, Forbidden, Invalid, NotFound
from doorstep_shared.pii import PiiCipher, mask_name, redact_text

from ..events import service as events_service
from ..notifications import service as notifications_service
from ..notifications.service import OutgoingMessage
from ..phones import read_phone, store_phone, validate_phone
from ..stations import service as stations_service
from ..stations.models import ServiceKind, Station, StationService
from ..tenancy import ensure_manage, ensure_sees
from . import repository as repo
from .models import DropOffTicket, TicketStatus
from .schemas import TicketCollect, TicketCreate, TicketCreated, TicketRead, TicketStatusChange

CLAIM_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CLAIM_LENGTH = 6

TRANSITIONS: dict[str, set[str]] = {
    TicketStatus.RECEIVED: {TicketStatus.IN_PROGRESS, TicketStatus.READY, TicketStatus.RETURNED},
    TicketStatus.IN_PROGRESS: {TicketStatus.READY, TicketStatus.RETURNED},
    TicketStatus.READY: {TicketStatus.RETURNED},
}


def new_claim_code() -> str:
    return "".join(secrets.choice(CLAIM_ALPHABET) for _ in range(CLAIM_LENGTH))


def claim_hash(cipher: PiiCipher, code: str) -> str:
    return cipher.lookup_hash(code.strip().upper(), kind="claim")


def ticket_prefix(station_code: str) -> str:
    letters = [c for c in station_code.upper() if c.isalpha()]
    return "".join(letters[:2]) or "T"


def ticket_read(t: DropOffTicket, station: Station, service_code: str | None, now: dt.datetime) -> TicketRead:
    end = t.closed_at or now
    return TicketRead(
        id=t.id or 0,
        station_code=station.code,
        service_code=service_code,
        number=t.number,
        name=mask_name(t.name) or "",
        phone=t.phone_masked,
        item=t.item,
        request=t.request,
        received_by=t.received_by,
        status=TicketStatus(t.status),
        return_reason=t.return_reason,
        failed_attempts=t.failed_attempts,
        locked=t.locked,
        received_at=t.received_at,
        ready_at=t.ready_at,
        closed_at=t.closed_at,
        age_hours=round(max(0.0, (end - t.received_at).total_seconds() / 3600), 2),
        version=t.version,
    )


def ticket_item(t: Any, station_code: str, service_code: str | None, now: dt.datetime) -> dict[str, Any]:
    """A ticket as ``TicketRead`` shows it, as a plain dict in its field order with the values its
    serialisers write (the name masked, free text redacted): a list's page is written as JSON
    once, the bytes the model would write (``tests/stations/tickets/test_lean_reads.py``). ``t``
    is a row of ``repository.READ_COLUMNS`` (or a ``DropOffTicket``)."""
    end = t.closed_at or now
    return {
        "id": t.id or 0,
        "station_code": station_code,
        "service_code": service_code,
        "number": t.number,
        "name": mask_name(t.name) or "",
        "phone": t.phone_masked,
        "item": redact_text(t.item),
        "request": redact_text(t.request),
        "received_by": t.received_by,
        "status": t.status,
        "return_reason": redact_text(t.return_reason) if t.return_reason is not None else None,
        "failed_attempts": t.failed_attempts,
        "locked": t.locked,
        "received_at": t.received_at,
        "ready_at": t.ready_at,
        "closed_at": t.closed_at,
        "age_hours": round(max(0.0, (end - t.received_at).total_seconds() / 3600), 2),
        "version": t.version,
    }


async def create_ticket(
    session: AsyncSession,
    cipher: PiiCipher,
    principal: Principal,
    station_code: str,
    data: TicketCreate,
    now: dt.datetime,
) -> TicketCreated:
    station = await stations_service.get_station(session, station_code)
    ensure_manage(principal, station)
    assert station.id is not None
    svc: StationService | None = None
    if data.service_code:
        svc = await stations_service.get_service(session, station, data.service_code)
        if svc.kind != ServiceKind.DROP_OFF:
            raise Invalid.field("body.service_code", "not a drop-off service", code="wrong_kind")
    phone = store_phone(cipher, validate_phone(data.phone))
    seq = await repo.next_ticket_seq(session, station.id)
    code = new_claim_code()
    ticket = DropOffTicket(
        station_id=station.id,
        service_id=svc.id if svc else None,
        community=station.community,
        number=f"{ticket_prefix(station.code)}-{seq:03d}",
        claim_code_hash=claim_hash(cipher, code),
        name=data.name.strip(),
        phone_cipher=phone.cipher,
        phone_hash=phone.hash,
        phone_masked=phone.masked,
        item=data.item,
        request=data.request,
        received_by=principal.subject,
        received_at=now,
    )
    session.add(ticket)
    await session.flush()
    base = ticket_read(ticket, station, svc.code if svc else None, now)
    return TicketCreated(**base.model_dump(), claim_code=code)


async def get_ticket(session: AsyncSession, principal: Principal, ticket_id: int) -> tuple[DropOffTicket, Station]:
    ticket = await repo.ticket_by_id(session, ticket_id, principal.visible_communities)
    if ticket is None:
        raise NotFound("Ticket not found.", code="ticket_not_found")
    station = await stations_service.station_by_id(session, ticket.station_id)
    assert station is not None
    return ticket, station


async def read_ticket(session: AsyncSession, principal: Principal, ticket_id: int, now: dt.datetime) -> TicketRead:
    found = await repo.ticket_for_reading(session, ticket_id, principal.visible_communities)
    if found is None:
        raise NotFound("Ticket not found.", code="ticket_not_found")
    ticket, station, service_code = found
    return ticket_read(ticket, station, service_code, now)


async def list_tickets(
    session: AsyncSession,
    principal: Principal,
    station_code: str,
    *,
    statuses: list[str] | None,
    after_id: int | None,
    limit: int,
    now: dt.datetime,
) -> tuple[list[dict[str, Any]], int | None]:
    """A page of the station's tickets as ``TicketRead`` shows them (``ticket_item``: the lean
    path, rows of the columns shown, their services' codes in one query) and the last id when
    there are more."""
    station = await stations_service.get_station(session, station_code)
    ensure_sees(principal, station.community, "Station tickets")
    assert station.id is not None
    rows = list(await repo.list_tickets(session, station.id, statuses=statuses, after_id=after_id, limit=limit))
    more = len(rows) > limit
    rows = rows[:limit]
    services = await stations_service.services_by_ids(session, {t.service_id for t in rows if t.service_id is not None})
    codes = {sid: svc.code for sid, svc in services.items()}
    items = [ticket_item(t, station.code, codes.get(t.service_id), now) for t in rows]
    return items, (rows[-1].id if more and rows else None)


async def change_status(
    session: AsyncSession,
    principal: Principal,
    ticket_id: int,
    change: TicketStatusChange,
    now: dt.datetime,
) -> TicketRead:
    ticket, station = await get_ticket(session, principal, ticket_id)
    ensure_manage(principal, station)
    if change.status not in TRANSITIONS.get(ticket.status, set()):
        raise Invalid.field(
            "body.status",
            f"cannot go from {ticket.status} to {change.status}",
            code="invalid_transition",
        )
    target = TicketStatus(change.status)
    values: dict[str, object] = {}
    if target == TicketStatus.RETURNED:
        if not change.reason:
            raise Invalid.field("body.reason", "a returned ticket needs a reason")
        values.update(return_reason=change.reason, closed_at=now)
    if target == TicketStatus.READY:
        values["ready_at"] = now
    assert ticket.id is not None
    if not await repo.transition_ticket(session, ticket.id, ticket.status, target, **values):
        raise Conflict("The ticket changed meanwhile; reload it.", code="ticket_changed")
    ticket, station = await get_ticket(session, principal, ticket.id)
    if target in (TicketStatus.READY, TicketStatus.RETURNED):
        await notifications_service.queue_ticket(session, f"ticket.{target}", ticket)
    if target == TicketStatus.READY:
        await events_service.ticket_event(session, "ticket.ready", ticket, now)
    return ticket_read(ticket, station, await stations_service.service_code(session, ticket.service_id), now)


@dataclass(frozen=True)
class ClaimOutcome:
    ticket: TicketRead | None
    attempts: int = 0
    attempts_left: int = 0
    locked: bool = False


async def collect(
    session: AsyncSession,
    cipher: PiiCipher,
    principal: Principal,
    ticket_id: int,
    proof: TicketCollect,
    now: dt.datetime,
    max_attempts: int,
) -> ClaimOutcome:
    """Hand the item back. A wrong proof is counted (the caller commits the count: 403)."""
    ticket, station = await get_ticket(session, principal, ticket_id)
    ensure_manage(principal, station)
    if ticket.locked:
        raise Forbidden(
            "Too many wrong claim attempts: the ticket is locked until a manager unlocks it.",
            code="claim_locked",
        )
    if ticket.status != TicketStatus.READY:
        raise Invalid.field("path.ticket_id", f"a {ticket.status} ticket cannot be collected", code="not_ready")
    if proof.claim_code is not None:
        ok = hmac.compare_digest(claim_hash(cipher, proof.claim_code), ticket.claim_code_hash)
    else:
        last4 = read_phone(cipher, ticket.phone_cipher)[-4:]
        ok = hmac.compare_digest(last4, proof.phone_last4 or "")
    if not ok:
        assert ticket.id is not None
        attempts = await repo.record_failed_claim(session, ticket.id, max_attempts)
        return ClaimOutcome(
            None,
            attempts=attempts,
            attempts_left=max(0, max_attempts - attempts),
            locked=attempts >= max_attempts,
        )
    assert ticket.id is not None
    if not await repo.transition_ticket(session, ticket.id, TicketStatus.READY, TicketStatus.COLLECTED, closed_at=now):
        raise Conflict("The ticket changed meanwhile; reload it.", code="ticket_changed")
    ticket, station = await get_ticket(session, principal, ticket.id)
    await events_service.ticket_event(session, "ticket.collected", ticket, now)
    return ClaimOutcome(
        ticket_read(ticket, station, await stations_service.service_code(session, ticket.service_id), now)
    )


async def unlock(session: AsyncSession, principal: Principal, ticket_id: int, now: dt.datetime) -> TicketRead:
    ticket, station = await get_ticket(session, principal, ticket_id)
    ensure_manage(principal, station)
    ticket.locked = False
    ticket.failed_attempts = 0
    ticket.version += 1
    session.add(ticket)
    await session.flush()
    return ticket_read(ticket, station, await stations_service.service_code(session, ticket.service_id), now)


async def compose_notification(
    session: AsyncSession, cipher: PiiCipher, message: OutboxMessage
) -> OutgoingMessage | None:
    """The text of a ``ticket.ready`` / ``ticket.returned`` message, to the ticket's phone."""
    station_name = await notifications_service.sender_name(session, message.payload)
    ticket = await repo.ticket_by_id(session, int(message.payload["ticket_id"]), None)
    if ticket is None:
        return None
    phone = read_phone(cipher, ticket.phone_cipher)
    if message.topic == "ticket.ready":
        text = (
            f"【{station_name}】您寄存的{ticket.item}已处理好（票号{ticket.number}），请凭取件码或手机尾号到驿站领取。"
        )
    else:
        text = (
            f"【{station_name}】您寄存的{ticket.item}（票号{ticket.number}）未能处理："
            f"{ticket.return_reason or ''}，请到驿站取回。"
        )
    return OutgoingMessage(
        message.id,
        message.topic,
        phone,
        text,
        ticket.community,
        ticket.station_id,
        {"ticket_id": ticket.id},
    )
