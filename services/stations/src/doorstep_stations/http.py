"""The station and ticket ETags.

Conditional requests themselves (If-None-Match → 304, If-Match → 412) and the problem responses
routes document are ``doorstep_shared.http``'s; the ETags they compare are made here.
"""

from __future__ import annotations

from doorstep_shared.http import etag_of

from .stations.schemas import StationRead
from .tickets.schemas import TicketRead


def station_etag(station: StationRead) -> str:
    """A station's ETag covers its services: they are part of its representation."""
    return etag_of("station", station.code, station.version, [s.version for s in station.services])


def ticket_etag(ticket: TicketRead) -> str:
    return etag_of("ticket", ticket.id, ticket.version)
