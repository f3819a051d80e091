"""The stations' hot reads in-process, before and after the snapshot (issue #23 part 3, finding
2): CPU µs per request of a station's hours, the station search by keyword, stations near a
point and open now, and one station, each through the app's routes (the snapshot) and through
the old handlers mounted beside them (``bench/apps/stations_model_reads.py``: a session per
request, ORM objects, response models), in one process, one run; plus ``/healthz`` for what
the in-process client and the middleware cost alone. Both paths must answer the same bytes
(checked on every request measured, once, before the timing).

    .venv/bin/python bench/profile_stations_read.py [-n 300] [--rounds 3] [--profile NAME] [--cprofile]
    DOORSTEP_BENCH_DATABASE_URL=postgresql+asyncpg://postgres@127.0.0.1:5432/test \\
        .venv/bin/python bench/profile_stations_read.py

The app runs with the demo data, SQLite by default (a temporary file), PostgreSQL in a
throw-away schema when DOORSTEP_BENCH_DATABASE_URL is set; requests go through httpx's ASGI
transport as ``chaoyang.worker``. Each read cycles through its requests as the mixed-load bench
does (every station's hours, its eight keywords). ``--profile NAME`` (e.g. ``hours``) prints a
pyinstrument (or cProfile) profile of that read's snapshot path.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import datetime as dt
import itertools
import logging
import os
import pstats
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx
from pyinstrument import Profiler

from bench import common
from bench.apps import stations_model_reads
from doorstep_shared.clock import utcnow
from doorstep_stations import deps
from doorstep_stations.seed import seed

S = "/api/v1/stations"
SEARCHES = ("理发", "lifa", "sx", "裁缝", "书香", "caifeng", "驿站", "kc")  # bench_mixed_load's
NEAR = {"lat": "31.71", "lon": "118.36", "radius_km": "3", "open_now": "true"}

Request = tuple[str, dict[str, str]]


def reads(codes: list[str]) -> dict[str, list[Request]]:
    return {
        "hours": [(f"/stations/{code}/hours", {}) for code in codes],
        "search": [("/stations", {"q": q}) for q in SEARCHES],
        "near, open now": [("/stations", NEAR)],
        "station": [(f"/stations/{code}", {}) for code in codes],
    }


async def timed(
    client: httpx.AsyncClient, prefix: str, requests: list[Request], headers: dict[str, str], n: int
) -> float:
    """CPU µs per request over ``n`` requests cycling through ``requests``."""
    cycle = itertools.cycle(requests)
    started = time.process_time()
    for _ in range(n):
        path, params = next(cycle)
        r = await client.get(prefix + path, params=params, headers=headers)
        assert r.status_code == 200, r.text[:300]
    return (time.process_time() - started) / n * 1e6


async def run(n: int, rounds: int, profile: str | None, use_cprofile: bool) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="profile-stations-"))
    pg = os.environ.get("DOORSTEP_BENCH_DATABASE_URL")
    stations = await common.stations_in_process(tmp, "profile_stations")
    app = stations.app
    headers = stations.bearer(common.chaoyang_worker())
    stations_model_reads.install(app)
    try:
        async with app.router.lifespan_context(app):
            async with app.state.sessionmaker() as session:
                await seed(session)
                await session.commit()
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://stations") as client:
                listed = await client.get(f"{S}/stations", params={"limit": "200"}, headers=headers)
                codes = [s["code"] for s in listed.json()["items"]]
                measured = reads(codes)
                instant = utcnow()

                async def frozen() -> dt.datetime:  # both paths at one instant for the comparison
                    return instant

                app.dependency_overrides[deps.now] = frozen
                for name, requests in measured.items():  # the same bytes, every request
                    for path, params in requests:
                        new = await client.get(S + path, params=params, headers=headers)
                        old = await client.get(stations_model_reads.PREFIX + path, params=params, headers=headers)
                        assert new.status_code == old.status_code == 200, (name, path, new.text[:200])
                        assert new.content == old.content, (name, path, params)
                        assert new.headers.get("etag") == old.headers.get("etag"), (name, path)
                app.dependency_overrides.clear()  # timed with the real clock
                figures: dict[str, dict[str, list[float]]] = {}
                health = [("/healthz", {})]
                for name, requests in [*measured.items(), ("healthz", health)]:
                    for label, prefix in (("snapshot", S), ("model", stations_model_reads.PREFIX)):
                        if name == "healthz" and label == "model":
                            continue
                        await timed(client, "" if name == "healthz" else prefix, requests, headers, 50)  # warm
                for _ in range(rounds):  # alternate the paths, so that a busy machine hurts both alike
                    for name, requests in [*measured.items(), ("healthz", health)]:
                        for label, prefix in (("snapshot", S), ("model", stations_model_reads.PREFIX)):
                            if name == "healthz":
                                if label == "model":
                                    continue
                                prefix = ""
                            figure = await timed(client, prefix, requests, headers, n)
                            figures.setdefault(name, {}).setdefault(label, []).append(figure)
                print(
                    f"stations hot reads in-process, {'PostgreSQL' if pg else 'SQLite'}, {n} requests × {rounds} rounds,"
                )
                print(
                    f"CPU µs per request (median of the rounds; in-process client included), load average {os.getloadavg()}"
                )
                print()
                rows = []
                base = statistics.median(figures["healthz"]["snapshot"])
                for name in measured:
                    new = statistics.median(figures[name]["snapshot"])
                    old = statistics.median(figures[name]["model"])
                    rows.append(
                        [
                            name,
                            common.fmt_int(old),
                            common.fmt_int(new),
                            f"{old / new:.1f}×",
                            common.fmt_int(new - base),
                        ]
                    )
                rows.append(["/healthz", "", common.fmt_int(base), "", "0"])
                print(
                    common.md_table(
                        ["read", "before (model path)", "after (snapshot)", "less CPU", "after − /healthz"], rows
                    )
                )
                if profile:
                    requests = measured[profile]
                    if use_cprofile:
                        prof = cProfile.Profile()
                        prof.enable()
                        await timed(client, S, requests, headers, n)
                        prof.disable()
                        pstats.Stats(prof).sort_stats("tottime").print_stats(40)
                    else:
                        profiler = Profiler(interval=0.0002)
                        profiler.start()
                        await timed(client, S, requests, headers, n)
                        profiler.stop()
                        print(profiler.output_text(unicode=True, color=False))
    finally:
        await stations.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=300, help="requests per read and path per round")
    parser.add_argument("--rounds", type=int, default=3, help="rounds, the paths alternating")
    parser.add_argument("--profile", choices=["hours", "search", "near, open now", "station"], help="profile one read")
    parser.add_argument("--cprofile", action="store_true", help="cProfile by own time instead of pyinstrument")
    args = parser.parse_args()
    logging.disable(logging.INFO)  # the per-request access lines would swamp the figures
    asyncio.run(run(args.n, args.rounds, args.profile, args.cprofile))
    return 0


if __name__ == "__main__":
    sys.exit(main())
