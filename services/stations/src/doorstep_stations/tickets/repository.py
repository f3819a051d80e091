"""Every drop-off ticket query. Tenancy (``visible``: communities, None = all) is applied here."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy import Row, update
from sqlalchemy import select as sa_select
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ..stations.models import Station, StationService
from ..tenancy import Visible, visible_to
from .models import DropOffTicket


async def next_ticket_seq(session: AsyncSession, station_id: int) -> int:
    """The station's next ticket number, taken atomically."""
    result = await session.exec(
        update(Station)
        .where(col(Station.id) == station_id)
        .values(ticket_seq=col(Station.ticket_seq) + 1)
        .returning(col(Station.ticket_seq))
        .execution_options(synchronize_session=False)
    )
    return int(result.scalar_one())


async def ticket_by_id(session: AsyncSession, ticket_id: int, visible: Visible) -> DropOffTicket | None:
    return (
        await session.exec(
            select(DropOffTicket)
            .where(DropOffTicket.id == ticket_id, visible_to(col(DropOffTicket.community), visible))
            .execution_options(populate_existing=True)
        )
    ).first()


async def ticket_for_reading(
    session: AsyncSession, ticket_id: int, visible: Visible
) -> tuple[DropOffTicket, Station, str | None] | None:
    """A ticket with its station and its service's code in one round trip (the read route;
    the write paths lock and load them with ``ticket_by_id``)."""
    query = (
        select(DropOffTicket, Station, StationService.code)
        .join(Station, col(Station.id) == col(DropOffTicket.station_id))
        .outerjoin(StationService, col(StationService.id) == col(DropOffTicket.service_id))
        .where(DropOffTicket.id == ticket_id, visible_to(col(DropOffTicket.community), visible))
    )
    row = (await session.exec(query)).first()
    return None if row is None else (row[0], row[1], row[2])


# What a ticket's read shows (``TicketRead``): Core rows of these, no ORM entity per row, and
# none of the claim code's hash or the phone's ciphertext.
_TICKETS = DropOffTicket.__table__  # type: ignore[attr-defined]
READ_COLUMNS = tuple(
    _TICKETS.c[name]
    for name in (
        "id",
        "service_id",
        "number",
        "name",
        "phone_masked",
        "item",
        "request",
        "received_by",
        "status",
        "return_reason",
        "failed_attempts",
        "locked",
        "received_at",
        "ready_at",
        "closed_at",
        "version",
    )
)


async def list_tickets(
    session: AsyncSession,
    station_id: int,
    *,
    statuses: Collection[str] | None,
    after_id: int | None,
    limit: int,
) -> Sequence[Row[Any]]:
    """A station's tickets after ``after_id`` in id order (``limit`` + 1: the caller tells
    whether there are more), as rows of ``READ_COLUMNS``."""
    query = sa_select(*READ_COLUMNS).where(_TICKETS.c.station_id == station_id)
    if statuses:
        query = query.where(_TICKETS.c.status.in_(list(statuses)))
    if after_id is not None:
        query = query.where(_TICKETS.c.id > after_id)
    return (await session.execute(query.order_by(_TICKETS.c.id).limit(limit + 1))).all()


async def transition_ticket(
    session: AsyncSession, ticket_id: int, from_status: str, to_status: str, **values: Any
) -> bool:
    """Move a ticket on from the status it was read in; False if someone moved it first."""
    result = await session.exec(
        update(DropOffTicket)
        .where(col(DropOffTicket.id) == ticket_id, col(DropOffTicket.status) == from_status)
        .values(status=to_status, version=col(DropOffTicket.version) + 1, **values)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


async def record_failed_claim(session: AsyncSession, ticket_id: int, max_attempts: int) -> int:
    """Count a wrong claim attempt atomically; the ticket locks at ``max_attempts``.

    Conditional on the ticket not being locked yet, so concurrent guesses cannot go past the
    limit; returns ``max_attempts`` when another request locked it first.
    """
    result = await session.exec(
        update(DropOffTicket)
        .where(col(DropOffTicket.id) == ticket_id, col(DropOffTicket.locked).is_(False))
        .values(
            failed_attempts=col(DropOffTicket.failed_attempts) + 1,
            locked=col(DropOffTicket.failed_attempts) + 1 >= max_attempts,
        )
        .returning(col(DropOffTicket.failed_attempts))
        .execution_options(synchronize_session=False)
    )
    attempts = result.scalar_one_or_none()
    return max_attempts if attempts is None else int(attempts)
