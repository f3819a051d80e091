"""The hot reads from the snapshot: a station, its hours, the station search (near a point, open
now, by kind or keyword). Each answers the bytes its route's response model would — the model
path (``stations.service.station_detail``, ``hours.service.get_hours``,
``search.service.search_stations``) is the reference, and ``tests/stations/snapshot`` holds the
two to the same answers — built as plain dicts in the models' shape and written as JSON once.
"""

from __future__ import annotations

import datetime as dt

from fastapi import Request
from fastapi.responses import Response
from pydantic_core import to_json

from doorstep_shared.clock import SHANGHAI
from doorstep_shared.directory import Directory
from doorstep_shared.http.compression import cached_body_response
from doorstep_shared.http.pagination import encode_cursor
from doorstep_shared.http.sparse import json_response
from doorstep_shared.textsearch import TextIndex

from ..hours import schedule as h
from ..search import textmatch
from ..search.service import StationQuery, bounding_box, haversine_km, keyword_fields
from ..stations import service as stations_service
from .service import Snapshot, StationEntry

TIMEZONE = "Asia/Shanghai"  # HoursRead.timezone

# --- a station ------------------------------------------------------------------------


def station(snap: Snapshot, code: str) -> StationEntry:
    found = snap.station(code)
    if found is None:
        raise stations_service.station_not_found(code)
    return found


def station_response(request: Request, entry: StationEntry) -> Response:
    """``GET /stations/{code}``: the station's StationRead with its ETag (the caller answers
    304 first when the ETag matches), compressed once per codec like any body kept per revision."""
    response = cached_body_response(request, entry.body, media_type="application/json")
    response.headers["ETag"] = entry.etag  # after the body's headers, as the model route set it
    return response


# --- its hours ------------------------------------------------------------------------


def hours_response(snap: Snapshot, code: str, service_code: str | None, at: dt.datetime) -> Response:
    """``GET /stations/{code}/hours``: HoursRead's JSON; the state and the week from the clock."""
    entry = station(snap, code)
    service_id = None
    if service_code:
        svc = entry.services.get(service_code)
        if svc is None:
            raise stations_service.service_not_found(service_code, entry.code)
        service_id = svc.id
    shown = entry.hours[service_id]
    state = h.state_at(shown.schedule, at, days=shown.windows)
    local = at.astimezone(SHANGHAI)
    return json_response(
        {
            "station_code": entry.code,
            "service_code": service_code,
            "timezone": TIMEZONE,
            "rules": shown.rules,
            "exceptions": shown.exceptions,
            "state": {
                "at": local,
                "open_now": state.open_now,
                "open_until": state.open_until,
                "next_opens_at": state.next_opens_at,
                "next_closes_at": state.next_closes_at,
            },
            "week": [
                {"date": day, "windows": [{"opens": o, "closes": c} for o, c in windows]}
                for day, windows in h.week_of(shown.schedule, local.date(), windows=shown.windows)
            ],
        }
    )


# --- the search -----------------------------------------------------------------------

Hit = tuple[StationEntry, float | None, bool]  # the station, its distance (rounded), open now


def _keyword_index(snap: Snapshot, directory: Directory) -> TextIndex:
    """Every station's keyword document (its compound's name from ``directory``), indexed once
    per snapshot and directory."""

    def build() -> TextIndex:
        docs = []
        for entry in snap.stations:
            compound = directory.compound(entry.compound)
            docs.append((entry.code, keyword_fields(entry, compound.name if compound else None, entry.active)))
        return textmatch.station_index(docs)

    return snap.derived("keywords", directory, build)


def search(snap: Snapshot, query: StationQuery, now: dt.datetime, directory: Directory) -> list[Hit]:
    """What ``search.service.search_stations`` finds, in its order, from memory: the same box
    and distance, kind, keyword scores (a station scores the same in an index of them all)
    and open state."""
    near = query.lat is not None and query.lon is not None
    bbox = bounding_box(query)
    kind = str(query.kind) if query.kind else None  # a ServiceKind, compared by its value
    scores = textmatch.scores_in(_keyword_index(snap, directory), query.q) if query.q else None
    local = now.astimezone(SHANGHAI)
    hits: list[Hit] = []
    for entry in snap.stations:
        if query.community is not None and entry.community != query.community:
            continue
        distance = None
        if bbox is not None and query.lat is not None and query.lon is not None:
            min_lat, max_lat, min_lon, max_lon = bbox
            if not (min_lat <= entry.latitude <= max_lat and min_lon <= entry.longitude <= max_lon):
                continue
            distance = haversine_km(query.lat, query.lon, entry.latitude, entry.longitude)
            if distance > query.radius_km:
                continue
        if kind is not None and kind not in entry.kinds:
            continue
        if scores is not None and entry.code not in scores:
            continue
        open_now = entry.open_at(local)
        if query.open_now is not None and open_now != query.open_now:
            continue
        hits.append((entry, round(distance, 3) if distance is not None else None, open_now))
    if near:
        hits.sort(key=lambda hit: (hit[1] or 0.0, hit[0].code))
    elif scores is not None:
        ranked = scores
        hits.sort(key=lambda hit: (-ranked[hit[0].code], hit[0].code))
    return hits


_OPEN = {True: b',"open_now":true}', False: b',"open_now":false}'}


def hits_response(hits: list[Hit], offset: int, limit: int) -> Response:
    """A page of hits as ``Page[StationHit]`` writes it — the bytes ``json_response`` would
    write of ``{"items": [{**read, "distance_km": …, "open_now": …}, …], "next_cursor": …}`` —
    from each station's JSON made once per revision: only the distance, the open state and the
    cursor are written per request."""
    items = [
        entry.hit_head + to_json(distance) + _OPEN[open_now]
        for entry, distance, open_now in hits[offset : offset + limit]
    ]
    more = offset + limit < len(hits)
    cursor = encode_cursor([offset + limit]) if more else None
    body = b'{"items":[' + b",".join(items) + b'],"next_cursor":' + to_json(cursor) + b"}"
    return Response(body, media_type="application/json")
