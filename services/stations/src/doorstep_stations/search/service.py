"""Finding stations: near a point, open now, by kind of service, by keyword.

A bounding box narrows the stations in SQL, the exact distance is computed here; "open now"
asks the opening hours; keywords match Chinese characters, full pinyin and initials
(``textmatch``). This is the model path, from the database: the route answers from the
snapshot (``snapshot.reads.search``), which applies the same box, distance, keyword fields and
order from memory and must answer the same bytes.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from sqlmodel.ext.asyncio.session import AsyncSession

from doorstep_shared.directory import Directory

from ..hours import service as hours_service
from ..stations import service as stations_service
from .schemas import StationHit
from .textmatch import keyword_scores

EARTH_RADIUS_KM = 6371.0088


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


@dataclass(frozen=True)
class StationQuery:
    lat: float | None = None
    lon: float | None = None
    radius_km: float = 5.0
    open_now: bool | None = None
    kind: str | None = None
    q: str | None = None
    community: str | None = None


def bounding_box(query: StationQuery) -> tuple[float, float, float, float] | None:
    """(min lat, max lat, min lon, max lon) around the point asked about, a little wider than
    the radius (None without a point): the stations inside it are measured exactly."""
    if query.lat is None or query.lon is None:
        return None
    dlat = query.radius_km / 111.0
    dlon = query.radius_km / (111.0 * max(0.01, math.cos(math.radians(query.lat))))
    return (query.lat - dlat, query.lat + dlat, query.lon - dlon, query.lon + dlon)


class Described(Protocol):
    """A station or a service, as far as keywords go (an ORM row or the snapshot's entry)."""

    @property
    def name(self) -> str: ...

    @property
    def description(self) -> str: ...


class Placed(Described, Protocol):
    @property
    def address(self) -> str: ...


def keyword_fields(
    station: Placed, compound_name: str | None, active: Sequence[Described]
) -> dict[str, tuple[str, ...]]:
    """What a keyword matches of a station: its name and its compound's (the directory's),
    its active services' names, then its address and descriptions."""
    return {
        "name": (station.name, compound_name) if compound_name else (station.name,),
        "services": tuple(x.name for x in active),
        "other": (station.address, station.description, *(x.description for x in active)),
    }


async def search_stations(
    session: AsyncSession, query: StationQuery, now: dt.datetime, directory: Directory
) -> list[StationHit]:
    """Stations near a point (box in SQL, exact distance here), open now, by kind or keyword."""
    near = query.lat is not None and query.lon is not None
    bbox = bounding_box(query)
    stations = await stations_service.find_stations(session, community=query.community, bbox=bbox)
    ids = [s.id for s in stations if s.id is not None]
    services = await stations_service.services_of(session, ids)
    hours = await hours_service.hours_of_stations(session, ids)
    scores: dict[str, float] | None = None
    if query.q:
        docs = []
        for s in stations:
            svcs = [x for x in services.get(s.id or 0, []) if x.active]
            compound = directory.compound(s.compound)
            docs.append((s.code, keyword_fields(s, compound.name if compound else None, svcs)))
        scores = keyword_scores(query.q, docs)
    hits: list[StationHit] = []
    for station in stations:
        assert station.id is not None
        svcs = [s for s in services.get(station.id, []) if s.active]
        distance = None
        if query.lat is not None and query.lon is not None:
            distance = haversine_km(query.lat, query.lon, station.latitude, station.longitude)
            if distance > query.radius_km:
                continue
        if query.kind and not any(s.kind == query.kind for s in svcs):
            continue
        if scores is not None and station.code not in scores:
            continue
        open_now = hours.is_open(station.id, [None, *(s.id for s in svcs)], now)
        if query.open_now is not None and open_now != query.open_now:
            continue
        base = stations_service.station_read(station, services.get(station.id, []))
        hits.append(
            StationHit(
                **base.model_dump(),
                distance_km=round(distance, 3) if distance is not None else None,
                open_now=open_now,
            )
        )
    if near:
        hits.sort(key=lambda hit: (hit.distance_km or 0.0, hit.code))
    elif scores is not None:
        ranked = scores
        hits.sort(key=lambda hit: (-ranked[hit.code], hit.code))
    return hits
