"""Search route: find stations near a point, open now, by kind of service or keyword."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query, Request, Response

from doorstep_shared.http import problems
from doorstep_shared.http.errors import Invalid
from doorstep_shared.http.pagination import CursorParam, LimitParam, Page, cursor_int, read_cursor

from ..deps import CurrentDirectory, Now, Reader, api_router, served
from ..snapshot import reads
from ..stations.models import ServiceKind
from . import service
from .schemas import StationHit

router = api_router()


@router.get(
    "/stations",
    response_model=Page[StationHit],
    summary="Find stations: near a point, open now, by kind of service or keyword",
    tags=["stations"],
    responses=problems(403, 422),
)
async def search_stations(
    _: Reader,
    now: Now,
    directory: CurrentDirectory,
    request: Request,
    lat: Annotated[float | None, Query(ge=-90, le=90, description="Latitude of the point")] = None,
    lon: Annotated[float | None, Query(ge=-180, le=180, description="Longitude")] = None,
    radius_km: Annotated[float, Query(gt=0, le=100, description="Search radius")] = 5.0,
    open_now: Annotated[bool | None, Query(description="Only open (true) / closed (false)")] = None,
    kind: Annotated[ServiceKind | None, Query(description="Offers a service of this kind")] = None,
    q: Annotated[str | None, Query(max_length=64, description="Keyword: 汉字, pinyin or initials")] = None,
    community: Annotated[str | None, Query(max_length=64)] = None,
    cursor: CursorParam = None,
    limit: LimitParam = 50,
) -> Response:
    # From the snapshot (no database session); open now from the clock, per request.
    if (lat is None) != (lon is None):
        raise Invalid.field("query.lon" if lon is None else "query.lat", "give both lat and lon")
    values = read_cursor(cursor, cursor_int)
    offset = values[0] if values else 0
    query = service.StationQuery(lat, lon, radius_km, open_now, kind, q, community)
    return reads.hits_response(reads.search(await served(request), query, now, directory), offset, limit)
