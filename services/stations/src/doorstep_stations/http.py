"""This app's HTTP conventions in one place: the problem responses routes document, and ETags.

Conditional requests themselves (If-None-Match → 304, If-Match → 412) are
``doorstep_shared.http``'s; the station and ticket ETags they compare are made here.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from doorstep_shared.http import etag_of

from .stations.schemas import StationRead
from .tickets.schemas import TicketRead


class Problem(BaseModel):
    """RFC 9457 problem details, as every error is rendered."""

    type: str
    title: str
    status: int
    code: str
    detail: str
    instance: str | None = None
    errors: list[dict[str, str]] | None = None


_DESCRIPTIONS = {
    304: "Not modified (If-None-Match matched)",
    400: "Bad request",
    403: "Forbidden (missing permission, or not a manager of this station)",
    404: "Not found (or another community's record)",
    409: "Conflict (duplicate, or changed concurrently)",
    412: "Stale If-Match",
    422: "Invalid input, with the reason and the offending field",
}


def problems(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses=`` for the problem+json errors a route can answer.

    401 and 422 are always there: every route takes a token and parameters, and a bad path or
    query parameter is a problem+json 422 too (FastAPI's own 422 entry would say application/json).
    """
    out: dict[int | str, dict[str, Any]] = {}
    for code in sorted({401, 422, *codes}):
        entry: dict[str, Any] = {"description": _DESCRIPTIONS.get(code, "Unauthorized")}
        if code != 304:
            entry["model"] = Problem
            entry["content"] = {"application/problem+json": {}}
        out[code] = entry
    return out


def station_etag(station: StationRead) -> str:
    """A station's ETag covers its services: they are part of its representation."""
    return etag_of("station", station.code, station.version, [s.version for s in station.services])


def ticket_etag(ticket: TicketRead) -> str:
    return etag_of("ticket", ticket.id, ticket.version)
