"""Figures: people served per station over a period (attended seats and collected drop-offs),
sessions held and cancelled, ticket turnaround."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from doorstep_shared.auth.tokens import Principal
from doorstep_shared.http.errors import NotFound
from doorstep_shared.periods import Period

from ..stations import service as stations_service
from ..tickets.models import TicketStatus
from . import repository as repo
from .schemas import FiguresRead, StationFigures


async def figures(
    session: AsyncSession,
    principal: Principal,
    period: Period,
    community: str | None,
) -> FiguresRead:
    visible = principal.visible_communities
    if community is not None:
        if visible is not None and community not in visible:
            raise NotFound("Community not found.")
        visible = frozenset({community})
    per_station = await repo.session_figures(session, period.since, period.until, visible)
    tickets = await repo.tickets_in_period(session, period.since, period.until, visible)
    ticket_figs: dict[int, dict[str, float]] = {}
    for t in tickets:
        f = ticket_figs.setdefault(t.station_id, {})
        f["received"] = f.get("received", 0) + 1
        if t.status == TicketStatus.COLLECTED and t.closed_at is not None:
            f["collected"] = f.get("collected", 0) + 1
            f["hours"] = f.get("hours", 0.0) + (t.closed_at - t.received_at).total_seconds() / 3600
        if t.status == TicketStatus.RETURNED:
            f["returned"] = f.get("returned", 0) + 1
    ids = set(per_station) | set(ticket_figs)
    stations = await stations_service.stations_by_ids(session, ids)
    rows: list[StationFigures] = []
    for sid in sorted(ids, key=lambda i: stations[i].code if i in stations else ""):
        if sid not in stations:
            continue
        s, tf = per_station.get(sid, {}), ticket_figs.get(sid, {})
        collected = int(tf.get("collected", 0))
        attended = s.get("seats_attended", 0)
        rows.append(
            StationFigures(
                station_code=stations[sid].code,
                station_name=stations[sid].name,
                community=stations[sid].community,
                sessions_held=s.get("sessions_held", 0),
                sessions_cancelled=s.get("sessions_cancelled", 0),
                seats_booked=s.get("seats_booked", 0),
                seats_attended=attended,
                no_shows=s.get("no_shows", 0),
                tickets_received=int(tf.get("received", 0)),
                tickets_collected=collected,
                tickets_returned=int(tf.get("returned", 0)),
                avg_turnaround_hours=round(tf["hours"] / collected, 2) if collected else None,
                people_served=attended + collected,
            )
        )
    return FiguresRead(
        from_date=period.start,
        to_date=period.end,
        stations=rows,
        total_people_served=sum(r.people_served for r in rows),
    )
