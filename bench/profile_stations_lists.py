"""The stations' lists in-process (issue #23 part 2): CPU µs per request of a service's sessions,
a session's bookings (whole and trimmed by ``?fields=``) and a station's tickets, 50 a page,
plus ``/healthz`` for what the in-process client and the middleware cost alone.

    .venv/bin/python bench/profile_stations_lists.py [-n 300] [--rounds 5]
    DOORSTEP_BENCH_DATABASE_URL=postgresql+asyncpg://postgres@127.0.0.1:5432/test \\
        .venv/bin/python bench/profile_stations_lists.py

The app runs with the demo data, SQLite by default (a temporary file), PostgreSQL in a
throw-away schema when DOORSTEP_BENCH_DATABASE_URL is set, plus 46 sessions of the demo's
painting class, 60 bookings of its first session (12 confirmed, 48 waitlisted) and 60 drop-off
tickets at shuxiang, all made through the API. Requests go through httpx's ASGI transport as
``chaoyang.worker``; each figure is the median of the rounds. The lists answered through
response models before 2026-12-05: to measure that code, put an older checkout's ``src``
folders first on ``PYTHONPATH`` and run this same script (bench/README.md, "The last lists").
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import logging
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx
from sqlmodel import col, select

from bench import common
from doorstep_shared.auth.tokens import Principal, TokenSigner
from doorstep_stations.bookings.models import ServiceSession
from doorstep_stations.seed import seed
from doorstep_stations.stations.models import Station, StationService

S = "/api/v1/stations"


def _bearer(signer: TokenSigner, subject: str, role: str, community: str | None) -> dict[str, str]:
    who = Principal(subject=subject, kind="user", name="bench", roles=frozenset({role}), community=community)
    return {"Authorization": f"Bearer {signer.access_token(who)[0]}"}


async def _populate(client: httpx.AsyncClient, app: object, signer: TokenSigner) -> dict[str, str]:
    """The sessions, bookings and tickets measured; the paths of the lists."""
    county = _bearer(signer, "county.admin", "county_admin", None)
    keeper = _bearer(signer, "shuxiang.keeper", "station_keeper", "chaoyang")
    worker = {"Authorization": f"Bearer {signer.access_token(common.chaoyang_worker())[0]}"}
    async with app.state.sessionmaker() as session:  # type: ignore[attr-defined]
        first, code, svc = (
            await session.exec(
                select(ServiceSession, Station.code, StationService.code)
                .join(Station, col(Station.id) == col(ServiceSession.station_id))
                .join(StationService, col(StationService.id) == col(ServiceSession.service_id))
                .where(col(StationService.code) == "painting")
                .order_by(col(ServiceSession.starts_at))
            )
        ).first()
    base = first.starts_at + dt.timedelta(days=60)
    for i in range(46):
        starts = base + dt.timedelta(days=i, hours=1)
        body = {"title": "周六书画", "starts_at": starts.isoformat(), "capacity": 30}
        body["ends_at"] = (starts + dt.timedelta(hours=2)).isoformat()
        r = await client.post(f"{S}/stations/{code}/services/{svc}/sessions", headers=county, json=body)
        assert r.status_code == 201, r.text
    for i in range(60):
        r = await client.post(
            f"{S}/sessions/{first.id}/bookings", headers=worker, json={"name": f"王小{i}", "phone": f"139{i:08d}"}
        )
        assert r.status_code == 201, r.text
    for i in range(60):
        note = {"service_code": "tailoring", "name": "李桂芳", "phone": f"138{i:08d}", "item": "蓝色裤子一条"}
        r = await client.post(f"{S}/stations/shuxiang/tickets", headers=keeper, json={**note, "request": "裤脚改短"})
        assert r.status_code == 201, r.text
    return {
        "sessions": f"{S}/stations/{code}/services/{svc}/sessions?limit=50",
        "bookings": f"{S}/sessions/{first.id}/bookings?limit=50",
        "bookings ?fields=": f"{S}/sessions/{first.id}/bookings?limit=50&fields=name,status,waitlist_position",
        "tickets": f"{S}/stations/shuxiang/tickets?limit=50&status=all",
        "/healthz": "/healthz",
    }


async def run(n: int, rounds: int) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="profile-lists-"))
    pg = os.environ.get("DOORSTEP_BENCH_DATABASE_URL")
    stations = await common.stations_in_process(tmp, "profile_lists")
    app, signer = stations.app, stations.signer
    worker = stations.bearer(common.chaoyang_worker())
    try:
        async with app.router.lifespan_context(app):
            async with app.state.sessionmaker() as session:
                await seed(session)
                await session.commit()
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://stations") as client:
                paths = await _populate(client, app, signer)
                for name, path in paths.items():  # warm: pools, caches, statement cache
                    for _ in range(50):
                        r = await client.get(path, headers=worker)
                        assert r.status_code == 200, (name, r.text[:300])
                    assert name == "/healthz" or len(r.json()["items"]) == 50, name
                figures: dict[str, list[float]] = {}
                for _ in range(rounds):
                    for name, path in paths.items():
                        started = time.process_time()
                        for _ in range(n):
                            await client.get(path, headers=worker)
                        figures.setdefault(name, []).append((time.process_time() - started) / n * 1e6)
    finally:
        await stations.close()
    print(f"stations lists in-process, {'PostgreSQL' if pg else 'SQLite'}, {n} requests × {rounds} rounds, 50 a page")
    print(f"load average {os.getloadavg()}")
    print()
    rows = [
        [name, common.fmt_int(statistics.median(f)), " ".join(common.fmt_int(x) for x in f)]
        for name, f in figures.items()
    ]
    print(common.md_table(["list", "CPU µs per request (median)", "rounds"], rows))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=300, help="requests per list and round")
    parser.add_argument("--rounds", type=int, default=5, help="rounds, the lists alternating")
    args = parser.parse_args()
    logging.disable(logging.INFO)  # the per-request access lines
    asyncio.run(run(args.n, args.rounds))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
