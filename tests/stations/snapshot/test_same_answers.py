"""The hot station reads from the snapshot answer exactly the bytes the database path answers:
a station (and its ETag), its hours for the station and each service at many instants, and the
station search (keywords, near a point, open now or not, by kind and community, pages), over the
demo data with a few changes made through the API (an inactive service, a service's own closure,
an extra opening)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import httpx
import pytest
from fastapi import FastAPI
from pydantic import TypeAdapter

from doorstep_shared.clock import utcnow
from doorstep_shared.http.pagination import Page, cursor_int, cursor_key_var, encode_cursor, read_cursor
from doorstep_stations.hours import service as hours_service
from doorstep_stations.hours.schemas import HoursRead
from doorstep_stations.http import station_etag
from doorstep_stations.search import service as search_service
from doorstep_stations.search.schemas import StationHit
from doorstep_stations.stations import service as stations_service
from doorstep_stations.stations.models import ServiceKind
from doorstep_stations.stations.schemas import StationRead

from ...directory_support import redrawn
from ...support import Tokens
from ..helpers import county, freeze, keeper, local, seed_demo, worker

pytestmark = pytest.mark.dates

API = "/api/v1/stations/stations"
HOURS: TypeAdapter[HoursRead] = TypeAdapter(HoursRead)
STATION: TypeAdapter[StationRead] = TypeAdapter(StationRead)
PAGE: TypeAdapter[Page[StationHit]] = TypeAdapter(Page[StationHit])

# Local instants: a weekday morning and lunch break, a Thursday before the tailoring shop's
# change of hours, a Saturday, National Day, a late evening, midnight.
INSTANTS = [
    local(2026, 12, 7, 10, 0),
    local(2026, 12, 7, 12, 30),
    local(2026, 5, 28, 9, 30),
    local(2026, 12, 12, 10, 0),
    local(2026, 10, 2, 10, 0),
    local(2026, 12, 9, 17, 29, 59),
    local(2026, 12, 10, 0, 0),
]


@dataclass(frozen=True)
class Search:
    lat: float | None = None
    lon: float | None = None
    radius_km: float = 5.0
    open_now: bool | None = None
    kind: ServiceKind | None = None
    q: str | None = None
    community: str | None = None
    limit: int = 50
    extra: dict[str, str] = field(default_factory=dict)

    def params(self) -> dict[str, str]:
        values = {
            "lat": self.lat,
            "lon": self.lon,
            "radius_km": self.radius_km if self.lat is not None else None,
            "open_now": None if self.open_now is None else str(self.open_now).lower(),
            "kind": self.kind.value if self.kind else None,
            "q": self.q,
            "community": self.community,
            "limit": self.limit,
        }
        return {k: str(v) for k, v in values.items() if v is not None} | self.extra


NEAR = {"lat": 31.71, "lon": 118.36}
SEARCHES = [
    Search(),
    Search(limit=200),
    Search(limit=7),
    *(Search(q=q) for q in ("理发", "lifa", "sx", "裁缝", "书香", "caifeng", "驿站", "kc", "zzz", "", "朝阳", "Sx")),
    Search(**NEAR, radius_km=3, open_now=True),  # the bench's "near, open now"
    Search(**NEAR, radius_km=3, open_now=False),
    Search(**NEAR, radius_km=0.5),
    Search(**NEAR, radius_km=100, limit=10),
    Search(**NEAR, radius_km=2, q="驿站"),
    Search(lat=31.7, lon=118.4, radius_km=1.5, kind=ServiceKind.APPOINTMENT),
    Search(kind=ServiceKind.CLASS),
    Search(kind=ServiceKind.DROP_OFF, open_now=True),
    Search(kind=ServiceKind.APPOINTMENT, community="chaoyang"),
    Search(community="chaoyang", q="hua"),
    Search(community="zhenhuai"),
    Search(community="nowhere"),
    Search(open_now=False, limit=20),
]


async def _changes(client: httpx.AsyncClient, tokens: Tokens) -> None:
    """Beyond the demo: an inactive service, a service with a closure of its own, an extra
    Saturday opening of a station, a station in a second community with a class."""
    admin = county(tokens)
    r = await client.patch(
        f"{API}/binjiang/services/haircut", json={"active": False}, headers=admin | {"If-Match": "*"}
    )
    assert r.status_code == 200, r.text
    r = await client.post(
        f"{API}/shuxiang/hours/exceptions",
        json={"service_code": "tailoring", "kind": "closed", "start_date": "2026-12-07", "end_date": "2026-12-07"},
        headers=keeper(tokens),
    )
    assert r.status_code == 201, r.text
    r = await client.post(
        f"{API}/zhongyang/hours/exceptions",
        json={
            "kind": "open",
            "start_date": "2026-12-12",
            "end_date": "2026-12-12",
            "opens": "09:00",
            "closes": "11:00",
        },
        headers=admin,
    )
    assert r.status_code == 201, r.text
    r = await client.post(
        f"{API}/jingdu/hours/rules",
        json={"service_code": "mothers", "weekdays": [5], "opens": "09:00", "closes": "10:30"},
        headers=admin,
    )
    assert r.status_code == 201, r.text
    r = await client.post(
        f"{API}/zhenhuaiyuan/services", json={"code": "mending", "name": "缝补", "kind": "drop_off"}, headers=admin
    )
    assert r.status_code == 201, r.text


@pytest.fixture
async def demo(stations: httpx.AsyncClient, stations_app: FastAPI, tokens: Tokens) -> httpx.AsyncClient:
    await seed_demo(stations_app)
    await _changes(stations, tokens)
    return stations


async def _model_hours(app: FastAPI, code: str, service: str | None, at: dt.datetime) -> bytes:
    async with app.state.sessionmaker() as session:
        return HOURS.dump_json(await hours_service.get_hours(session, code, service, at))


async def _model_search(app: FastAPI, search: Search, now: dt.datetime, cursor: str | None) -> bytes:
    """What the search route answered before the snapshot (the route's paging of the service),
    its cursors signed with the app's key as the route's are."""
    token = cursor_key_var.set(app.state.cursor_key())
    try:
        return await _model_page(app, search, now, cursor)
    finally:
        cursor_key_var.reset(token)


async def _model_page(app: FastAPI, search: Search, now: dt.datetime, cursor: str | None) -> bytes:
    values = read_cursor(cursor, cursor_int)
    offset = values[0] if values else 0
    query = search_service.StationQuery(
        search.lat, search.lon, search.radius_km, search.open_now, search.kind, search.q, search.community
    )
    async with app.state.sessionmaker() as session:
        hits = await search_service.search_stations(session, query, now, app.state.directory.directory())
    more = offset + search.limit < len(hits)
    page = Page(
        items=hits[offset : offset + search.limit], next_cursor=encode_cursor([offset + search.limit]) if more else None
    )
    return PAGE.dump_json(page)


def _json(r: httpx.Response) -> None:
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/json"


async def test_every_station_reads_as_the_database_says_with_its_etag(
    demo: httpx.AsyncClient, stations_app: FastAPI, tokens: Tokens
) -> None:
    async with stations_app.state.sessionmaker() as session:
        codes = [s.code for s in await stations_service.find_stations(session)]
        details = {code: await stations_service.station_detail(session, code) for code in codes}
    assert len(codes) == 78
    plain = worker(tokens) | {"Accept-Encoding": "identity"}  # the headers as the route sets them
    for code in codes:
        r = await demo.get(f"{API}/{code}", headers=plain)
        _json(r)
        assert r.content == STATION.dump_json(details[code]), code
        assert r.headers["etag"] == station_etag(details[code])
        assert [k for k in r.headers if k in ("content-length", "content-type", "etag")] == [
            "content-length",
            "content-type",
            "etag",
        ]
    again = await demo.get(
        f"{API}/shuxiang", headers=worker(tokens) | {"If-None-Match": station_etag(details["shuxiang"])}
    )
    assert again.status_code == 304 and again.headers["etag"] == station_etag(details["shuxiang"])
    assert again.headers["cache-control"] == "private, no-cache"
    missing = await demo.get(f"{API}/nowhere", headers=worker(tokens) | {"Accept-Language": "en"})
    assert missing.status_code == 404 and missing.json()["code"] == "station_not_found"
    assert missing.json()["detail"] == "Station nowhere not found."


@pytest.mark.parametrize("at", INSTANTS, ids=lambda at: at.strftime("%Y%m%d-%H%M"))
async def test_hours_answer_the_bytes_of_the_model_path(
    demo: httpx.AsyncClient, stations_app: FastAPI, tokens: Tokens, at: dt.datetime
) -> None:
    cases = [
        ("shuxiang", None),
        ("shuxiang", "tailoring"),
        ("binjiang", "haircut"),  # inactive: its hours still read
        ("zhongyang", None),
        ("zhongyang", "painting"),
        ("jingdu", "mothers"),
        ("jingdu", None),
        ("zhenhuaiyuan", "mending"),
        ("zhenhuaiyuan", ""),  # an empty service: the station's hours, answered with ""
        ("anliang", None),
    ]
    for code, service in cases:
        params = {"at": at.isoformat()} | ({"service": service} if service is not None else {})
        r = await demo.get(f"{API}/{code}/hours", params=params, headers=keeper(tokens))
        _json(r)
        assert r.content == await _model_hours(stations_app, code, service, at), (code, service)
    # Without ``at``: the route's clock.
    now = at.astimezone(dt.UTC)
    freeze(stations_app, now)
    r = await demo.get(f"{API}/shuxiang/hours", params={"service": "tailoring"}, headers=keeper(tokens))
    assert r.content == await _model_hours(stations_app, "shuxiang", "tailoring", now)


async def test_hours_refusals_are_the_model_paths(demo: httpx.AsyncClient, tokens: Tokens) -> None:
    hk = keeper(tokens) | {"Accept-Language": "en"}
    r = await demo.get(f"{API}/nowhere/hours", headers=hk)
    assert (r.status_code, r.json()["code"], r.json()["detail"]) == (
        404,
        "station_not_found",
        "Station nowhere not found.",
    )
    r = await demo.get(f"{API}/shuxiang/hours", params={"service": "nothing"}, headers=hk)
    assert (r.status_code, r.json()["code"]) == (404, "service_not_found")
    assert r.json()["detail"] == "Service nothing not found at shuxiang."
    r = await demo.get(f"{API}/shuxiang/hours", params={"at": "2026-12-07T10:00:00"}, headers=hk)
    assert r.status_code == 422 and "query.at" in r.text


@pytest.mark.parametrize(
    "at", [INSTANTS[0], INSTANTS[1], INSTANTS[3], INSTANTS[4]], ids=lambda at: at.strftime("%Y%m%d-%H%M")
)
async def test_search_answers_the_bytes_of_the_model_path(
    demo: httpx.AsyncClient, stations_app: FastAPI, tokens: Tokens, at: dt.datetime
) -> None:
    freeze(stations_app, at.astimezone(dt.UTC))
    for search in SEARCHES:
        cursor = None
        for _ in range(3):  # the first pages
            params = search.params() | ({"cursor": cursor} if cursor else {})
            r = await demo.get(API, params=params, headers=worker(tokens))
            _json(r)
            assert r.content == await _model_search(stations_app, search, at, cursor), search
            cursor = r.json()["next_cursor"]
            if cursor is None:
                break


async def test_search_answers_as_before_at_the_real_clock(
    demo: httpx.AsyncClient, stations_app: FastAPI, tokens: Tokens
) -> None:
    now = utcnow()
    freeze(stations_app, now)
    for search in SEARCHES[:6]:
        r = await demo.get(API, params=search.params(), headers=worker(tokens))
        assert r.content == await _model_search(stations_app, search, now, None), search


async def test_search_follows_a_directory_with_another_compound_name(
    demo: httpx.AsyncClient, stations_app: FastAPI, tokens: Tokens
) -> None:
    """The keyword index names each station's compound as the directory does: another
    directory (a new object in the app's copy) re-indexes the stations."""
    copy = stations_app.state.directory
    before = copy.current
    now = utcnow()
    freeze(stations_app, now)
    renamed = Search(q="墨香苑")
    try:
        copy.prime(redrawn(before, "shuxiang", name="墨香苑"))
        r = await demo.get(API, params=renamed.params(), headers=worker(tokens))
        assert [h["code"] for h in r.json()["items"]] == ["shuxiang"]
        assert r.content == await _model_search(stations_app, renamed, now, None)
    finally:
        copy.prime(before)
    r = await demo.get(API, params=renamed.params(), headers=worker(tokens))
    assert r.json()["items"] == []
    assert r.content == await _model_search(stations_app, renamed, now, None)
