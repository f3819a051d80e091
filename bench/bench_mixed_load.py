"""A county's peak through the gateway: 50 clients, reads and writes mixed, for 30 seconds.

    .venv/bin/python bench/bench_mixed_load.py [--quick] [--clients 50] [--seconds 30] [--rate 160]
        [--sqlite-only | --postgresql-only] [--slow-callbacks APP]

The four apps run as ``make run`` runs them (temporary directory, the demo data from
``launcher --seed-only``) on SQLite, and again on PostgreSQL when ``DOORSTEP_BENCH_DATABASE_URL``
(or ``BENCH_PG_URL``, which ``bench/run.py`` passes on) names one (a throw-away schema per app,
pools of 5). Demo users sign in through the gateway; before the run the admin plans cases with a
visit each for ``chaoyang.worker`` (the worker checks them in and out during the run).

Clients (aiohttp, one process, keep-alive): half are grid workers (residents list and read, my
day, leads list and read, cases list, visit check-in and check-out, a case's material ticked or
un-ticked, a sign-in now and then), 30 % work with stations (a keeper and residents' phones: the
opening hours of a station, station search by keyword, near a point and open now, a session's
bookings, a booking made), 20 % read the catalogue (search, item, categories). Each client paces
itself so the clients together offer ``--rate`` requests a second (160: the rate the issue
measured); a client that falls behind sends at once (``--rate 0``: closed loop, no pacing).

Reported: per endpoint count, errors, p50 / p99 / max; overall req/s, p50 / p99 / max; CPU
seconds of each app; each app's event-loop lag during the run, from its ``/metrics`` (the probe
``doorstep_shared.http.loop_lag``: samples over 50 ms and the longest). Goals (issue 23 part 3):
p99 < 300 ms and max < 1 s on PostgreSQL, p99 < 500 ms on SQLite, no app's loop held > 50 ms.
The probe's busy lag counts a turn in which a saturated loop ran many short callbacks as well as
one blocking call; ``--slow-callbacks APP`` (repeatable) tells them apart: that app runs in
asyncio's debug mode (``DOORSTEP_<APP>_SLOW_CALLBACK_MS=50``), which times every callback; each
one over 50 ms is counted (``doorstep_event_loop_slow_callbacks_total``) and the five longest are
printed by name. asyncio times callbacks by the wall clock: on a machine short of cores, a
callback the OS preempted counts too. A busy lag can also be a full garbage collection, which
runs on the loop's thread: each app's full collections during the run and the longest are
printed beside its lag (``doorstep_gc_pause_seconds{generation="2"}``).
"""

# bench-timeout: 720
# (on each database: seeding the demo, the first discovery pass, a 30-second run; on a busy machine)

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
import warnings
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import common
from bench.run import Context, Plan, app_env, app_server
from doorstep_shared.clock import local_today

PASSWORD = "doorstep-demo"  # noqa: S105 (the demo logins' password, README "Demo logins")
WORKER, ADMIN, KEEPER = "chaoyang.worker", "chaoyang.admin", "shuxiang.keeper"
P, S, C = "/api/v1/proxy", "/api/v1/stations", "/api/v1/catalog"
GOAL_P99_MS = {"PostgreSQL": 300.0, "SQLite": 500.0}
GOAL_MAX_MS = {"PostgreSQL": 1000.0}
GOAL_LAG_MS = 50.0
APPS = ("gateway", "catalog", "proxy", "stations")
SIGN_INS = ("chaoyang.worker", "zhenhuai.worker", "chaoyang.admin", "zhenhuai.admin", "shuxiang.keeper")
SEARCHES = ("理发", "lifa", "sx", "裁缝", "书香", "caifeng", "驿站", "kc")
CATALOG_QUERIES = ("gl", "高龄", "butie", "残疾人补贴", "cjr", "养老金", "4050")


@dataclass
class World:
    """What the demo holds that the clients address (read once before the run)."""

    tokens: dict[str, str]
    residents: list[str]
    leads: list[int]
    stations: list[str]
    sessions: list[int]
    items: list[str]
    visits: asyncio.Queue[str]
    materials: list[tuple[str, int]]


@dataclass
class Stats:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    error_samples: list[str] = field(default_factory=list)


class Client:
    """One phone: its own connection, its role's mix, paced to ``interval`` seconds a request."""

    def __init__(self, http: aiohttp.ClientSession, world: World, stats: Stats, rng: random.Random) -> None:
        self.http, self.world, self.stats, self.rng = http, world, stats, rng
        self.checked_in: str | None = None

    async def call(self, label: str, method: str, path: str, user: str, **kwargs: Any) -> Any:
        headers = {"Authorization": f"Bearer {self.world.tokens[user]}"}
        started = time.perf_counter()
        try:
            async with self.http.request(method, path, headers=headers, **kwargs) as resp:
                body = await resp.read()
                status = resp.status
        except (aiohttp.ClientError, TimeoutError) as exc:
            body, status = repr(exc).encode(), 599
        self.stats.latencies[label].append(time.perf_counter() - started)
        if status >= 400:
            self.stats.errors[label] += 1
            if len(self.stats.error_samples) < 10:
                self.stats.error_samples.append(f"{label}: {status} {body[:200]!r}")
        return status

    # --- the worker ---------------------------------------------------------------------
    async def residents(self) -> None:
        await self.call("residents list", "GET", f"{P}/residents", WORKER, params={"limit": "20"})

    async def resident(self) -> None:
        rid = self.rng.choice(self.world.residents)
        await self.call("resident read", "GET", f"{P}/residents/{rid}", WORKER)

    async def my_day(self) -> None:
        await self.call("my day", "GET", f"{P}/my/day", WORKER)

    async def leads(self) -> None:
        await self.call("leads list", "GET", f"{P}/leads", WORKER, params={"limit": "20"})

    async def lead(self) -> None:
        await self.call("lead read", "GET", f"{P}/leads/{self.rng.choice(self.world.leads)}", WORKER)

    async def cases(self) -> None:
        await self.call("cases list", "GET", f"{P}/cases", WORKER, params={"limit": "20"})

    async def visit(self) -> None:
        if self.checked_in is not None:
            out = {"outcome": "done", "notes": "材料已收齐，老人签字确认"}
            await self.call("visit check-out", "POST", f"{P}/visits/{self.checked_in}/check-out", WORKER, json=out)
            self.checked_in = None
            return
        try:
            visit = self.world.visits.get_nowait()
        except asyncio.QueueEmpty:
            await self.material()
            return
        await self.call("visit check-in", "POST", f"{P}/visits/{visit}/check-in", WORKER, json={})
        self.checked_in = visit

    async def material(self) -> None:
        case, position = self.rng.choice(self.world.materials)
        body = {"collected": self.rng.choice(("copy_taken", None))}
        await self.call("case material", "PUT", f"{P}/cases/{case}/materials/{position}", ADMIN, json=body)

    async def sign_in(self) -> None:
        started = time.perf_counter()
        # Phones of different people (the throttle locks one account's attempts from one address).
        user = self.rng.choice(SIGN_INS)
        data = {"grant_type": "password", "username": user, "password": PASSWORD}
        async with self.http.post("/api/v1/auth/token", data=data) as resp:
            body = await resp.read()
            if resp.status >= 400:
                self.stats.errors["sign in"] += 1
                if len(self.stats.error_samples) < 10:
                    self.stats.error_samples.append(f"sign in ({user}): {resp.status} {body[:200]!r}")
        self.stats.latencies["sign in"].append(time.perf_counter() - started)

    # --- stations -----------------------------------------------------------------------
    async def hours(self) -> None:
        code = self.rng.choice(self.world.stations)
        await self.call("station hours", "GET", f"{S}/stations/{code}/hours", KEEPER)

    async def search(self) -> None:
        q = self.rng.choice(SEARCHES)
        await self.call("station search", "GET", f"{S}/stations", KEEPER, params={"q": q})

    async def near(self) -> None:
        params = {"lat": "31.71", "lon": "118.36", "radius_km": "3", "open_now": "true"}
        await self.call("stations near, open now", "GET", f"{S}/stations", WORKER, params=params)

    async def bookings(self) -> None:
        sid = self.rng.choice(self.world.sessions)
        await self.call("session bookings", "GET", f"{S}/sessions/{sid}/bookings", WORKER)

    async def book(self) -> None:
        sid = self.rng.choice(self.world.sessions)
        phone = f"138{self.rng.randrange(10**8):08d}"  # one booking per phone and session
        body = {"name": "张阿姨", "phone": phone, "seats": 1, "waitlist": True}
        await self.call("booking made", "POST", f"{S}/sessions/{sid}/bookings", WORKER, json=body)

    # --- the catalogue ------------------------------------------------------------------
    async def catalog_search(self) -> None:
        q = self.rng.choice(CATALOG_QUERIES)
        await self.call("catalog search", "GET", f"{C}/items", WORKER, params={"q": q})

    async def item(self) -> None:
        await self.call("catalog item", "GET", f"{C}/items/{self.rng.choice(self.world.items)}", WORKER)

    async def categories(self) -> None:
        await self.call("catalog categories", "GET", f"{C}/categories", WORKER)


# (share of the clients, [(weight, step)]): the mix, by role.
Mix = list[tuple[int, Callable[[Client], Awaitable[None]]]]
ROLES: list[tuple[float, Mix]] = [
    (
        0.5,
        [
            (14, Client.residents),
            (14, Client.resident),
            (8, Client.my_day),
            (8, Client.leads),
            (5, Client.lead),
            (6, Client.cases),
            (8, Client.visit),
            (4, Client.material),
            (1, Client.sign_in),
        ],
    ),
    (0.3, [(10, Client.hours), (10, Client.search), (4, Client.near), (4, Client.bookings), (3, Client.book)]),
    (0.2, [(8, Client.catalog_search), (10, Client.item), (3, Client.categories)]),
]


async def run_client(client: Client, mix: Mix, until: float, interval: float) -> None:
    weights = [w for w, _ in mix]
    steps = [s for _, s in mix]
    # Start spread over one interval, so the clients do not arrive in step.
    next_at = time.perf_counter() + client.rng.random() * interval
    while True:
        if interval:
            delay = next_at - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            next_at = max(next_at + interval, time.perf_counter() - interval)
        if time.perf_counter() >= until:
            return
        await client.rng.choices(steps, weights)[0](client)


# --- setting up -----------------------------------------------------------------------------


async def sign_in(http: aiohttp.ClientSession, user: str) -> str:
    data = {"grant_type": "password", "username": user, "password": PASSWORD}
    async with http.post("/api/v1/auth/token", data=data) as resp:
        resp.raise_for_status()
        return str((await resp.json())["access_token"])


async def get_json(http: aiohttp.ClientSession, path: str, token: str, **params: str) -> Any:
    async with http.get(path, params=params, headers={"Authorization": f"Bearer {token}"}) as resp:
        resp.raise_for_status()
        return await resp.json()


async def settled(http: aiohttp.ClientSession, limit: float = 300.0) -> float:
    """Wait for the proxy's first discovery pass (the county run a fresh start makes, and the
    seed's change queue) to end: the run measures a county's peak, not the nightly run.
    Returns the seconds waited."""
    started = time.perf_counter()
    token = await sign_in(http, "county.admin")
    while time.perf_counter() - started < limit:
        found = (await get_json(http, f"{P}/discovery/runs", token, limit="5"))["items"]
        if all(r["status"] != "running" for r in found) and (found or time.perf_counter() - started > 15):
            break
        await asyncio.sleep(1.0)
    await asyncio.sleep(35.0 if time.perf_counter() - started < 35.0 else 0.0)  # one more pass: the queue
    return time.perf_counter() - started


async def prepare(http: aiohttp.ClientSession, visits: int) -> World:
    tokens = {user: await sign_in(http, user) for user in (WORKER, ADMIN, KEEPER)}
    worker, admin = tokens[WORKER], tokens[ADMIN]
    residents = [r["id"] for r in (await get_json(http, f"{P}/residents", worker, limit="100"))["items"]]
    leads = [lead["id"] for lead in (await get_json(http, f"{P}/leads", worker, limit="50"))["items"]]
    stations = [s["code"] for s in (await get_json(http, f"{S}/stations", worker, limit="50"))["items"]]
    sessions: list[int] = []
    for station in (await get_json(http, f"{S}/stations", worker, limit="50"))["items"]:
        for service in station["services"]:
            if service["kind"] in ("appointment", "class") and len(sessions) < 12:
                found = await get_json(
                    http, f"{S}/stations/{station['code']}/services/{service['code']}/sessions", worker, limit="3"
                )
                sessions += [s["id"] for s in found["items"]]
    items = [i["code"] for i in (await get_json(http, f"{C}/items", worker, limit="50"))["items"]]
    queue: asyncio.Queue[str] = asyncio.Queue()
    materials: list[tuple[str, int]] = []
    headers = {"Authorization": f"Bearer {admin}"}
    # One open case per resident and item (a second is a 409): at most one visit per resident;
    # once the visits are used up, a client that would check one in ticks a material instead.
    for rid in residents[:visits]:
        body = {"id": str(uuid.uuid4()), "resident_id": rid, "item_code": "elderly-allowance", "channel": "doorstep"}
        async with http.post(f"{P}/cases", json=body, headers=headers) as resp:
            resp.raise_for_status()
            case = await resp.json()
        materials += [(case["id"], m["position"]) for m in case["materials"]]
        plan = {"case_ids": [case["id"]], "planned_date": local_today().isoformat(), "worker": WORKER}
        async with http.post(f"{P}/visits", json=plan, headers=headers) as resp:
            resp.raise_for_status()
            queue.put_nowait((await resp.json())["id"])
    if not (residents and leads and stations and sessions and items):
        raise SystemExit("the demo data lacks residents, leads, stations, sessions or items")
    return World(tokens, residents, leads, stations, sessions, items, queue, materials)


# --- the loop-lag probe, read from each app's /metrics --------------------------------------

_SAMPLE = re.compile(
    r"^doorstep_event_loop_(lag|busy_lag)_(seconds_bucket|seconds_count|max_seconds)\{([^}]*)\} (\S+)$", re.M
)
_GC = re.compile(r"^doorstep_gc_pause_(seconds_bucket|seconds_count|max_seconds)\{([^}]*)\} (\S+)$", re.M)
_SLOW = re.compile(r"^doorstep_event_loop_slow_(callbacks_total|callback_max_seconds)\{[^}]*\} (\S+)$", re.M)


async def lag_state(http: aiohttp.ClientSession, url: str) -> dict[str, dict[str, float]]:
    """The probe's figures per family (``lag``, ``busy_lag``, ``gc2``: full collections): ``count``, ``le:<bound>`` bucket
    counts and ``max``."""
    async with http.get(f"{url}/metrics") as resp:
        text = await resp.text()
    out: dict[str, dict[str, float]] = {"lag": {}, "busy_lag": {}, "slow": {}, "gc2": {}}
    for kind, value in _SLOW.findall(text):  # with --slow-callbacks only
        out["slow"]["count" if kind == "callbacks_total" else "max"] = float(value)
    full = [("gc2", kind, labels, value) for kind, labels, value in _GC.findall(text) if 'generation="2"' in labels]
    for family, kind, labels, value in [*_SAMPLE.findall(text), *full]:
        if kind == "seconds_bucket":
            bound = re.search(r'le="([^"]+)"', labels)
            assert bound is not None
            out[family][f"le:{bound.group(1)}"] = float(value)
        else:
            out[family]["count" if kind == "seconds_count" else "max"] = float(value)
    return out


def lag_during(before: dict[str, float], after: dict[str, float]) -> dict[str, Any]:
    """Samples, samples over 50 ms and the longest lag between two readings. The longest is
    exact when it set a new maximum since start; else it is bounded by the histogram's bucket."""
    if "count" not in after:
        return {"samples": 0, "over_50ms": None, "max_ms": None, "max_exact": False}
    samples = after["count"] - before.get("count", 0.0)
    over = samples - (after["le:0.05"] - before.get("le:0.05", 0.0))
    if after["max"] > before.get("max", 0.0):
        return {"samples": samples, "over_50ms": over, "max_ms": after["max"] * 1000, "max_exact": True}
    bounds = sorted((float(k[3:]), k) for k in after if k.startswith("le:") and k != "le:+Inf")
    top = next((b for b, k in bounds if after[k] - before.get(k, 0.0) >= samples), bounds[-1][0])
    return {"samples": samples, "over_50ms": over, "max_ms": top * 1000, "max_exact": False}


# --- one run --------------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000 if ordered else 0.0


async def load(
    gateway: str,
    servers: dict[str, common.Server],
    clients: int,
    seconds: float,
    rate: float,
    visits: int,
    profiles: dict[str, Path],
) -> dict[str, Any]:
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(base_url=gateway, timeout=timeout) as setup:
        waited = await settled(setup)
        world = await prepare(setup, visits)
        # Warm-up: every endpoint once (caches filled, pools opened).
        warm = Client(setup, world, Stats(), random.Random(0))
        for _, mix in ROLES:
            for _, step in mix:
                await step(warm)
        states = {name: await lag_state(setup, s.url) for name, s in servers.items()}
    # Where each log stands when the run starts: the slow callbacks listed are the run's own.
    log_offsets = {name: s.log_path.stat().st_size if s.log_path.exists() else 0 for name, s in servers.items()}
    cpu = {name: s.cpu() for name, s in servers.items()}
    stats = Stats()
    interval = clients / rate if rate else 0.0
    sessions = [
        aiohttp.ClientSession(
            base_url=gateway, timeout=timeout, connector=aiohttp.TCPConnector(limit=1, force_close=False)
        )
        for _ in range(clients)
    ]
    roles = [mix for share, mix in ROLES for _ in range(round(share * clients))]
    roles += [ROLES[0][1]] * (clients - len(roles))
    spies = [
        subprocess.Popen(  # noqa: ASYNC220 (py-spy, when asked for, started before the run)
            [
                shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy"),  # the venv's, if not on PATH
                "record",
                "-p",
                str(servers[app].pid),
                "-d",
                str(int(seconds)),
                "-r",
                "250",
                "-f",
                "raw",
                "-o",
                str(out),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for app, out in profiles.items()
    ]
    started = time.perf_counter()
    until = started + seconds
    try:
        await asyncio.gather(
            *(
                run_client(Client(http, world, stats, random.Random(n)), mix, until, interval)
                for n, (http, mix) in enumerate(zip(sessions, roles, strict=True))
            )
        )
    finally:
        for http in sessions:
            await http.close()
    elapsed = time.perf_counter() - started
    for spy in spies:
        spy.wait(timeout=60)
    used = {name: s.cpu() - cpu[name] for name, s in servers.items()}
    async with aiohttp.ClientSession() as http:
        ends = {name: await lag_state(http, s.url) for name, s in servers.items()}
    lags = {name: lag_during(states[name]["lag"], ends[name]["lag"]) for name in servers}
    busy = {name: lag_during(states[name]["busy_lag"], ends[name]["busy_lag"]) for name in servers}
    pauses = {name: lag_during(states[name]["gc2"], ends[name]["gc2"]) for name in servers}
    slow = {
        # The run's own count (the counter is the process's); the gauge's longest is since start.
        name: {**ends[name]["slow"], "count": ends[name]["slow"]["count"] - states[name]["slow"].get("count", 0.0)}
        for name in servers
        if ends[name]["slow"]
    }
    everything = [x for values in stats.latencies.values() for x in values]
    return {
        "seconds": elapsed,
        "requests": len(everything),
        "rps": len(everything) / elapsed,
        "p50_ms": percentile(everything, 0.5),
        "p99_ms": percentile(everything, 0.99),
        "max_ms": max(everything) * 1000 if everything else 0.0,
        "errors": sum(stats.errors.values()),
        "endpoints": {
            label: {
                "count": len(values),
                "errors": stats.errors.get(label, 0),
                "p50_ms": percentile(values, 0.5),
                "p99_ms": percentile(values, 0.99),
                "max_ms": max(values) * 1000,
            }
            for label, values in sorted(stats.latencies.items())
        },
        "cpu_s": used,
        "lag": lags,
        "busy_lag": busy,
        "gc2": pauses,
        "slow": slow,
        "error_samples": stats.error_samples,
        "settled_s": waited,
        "log_offsets": log_offsets,
    }


_EXECUTING = re.compile(r"Executing (<.*?>) took ([0-9.]+) seconds")


def slow_lines(server: common.Server, since: int = 0) -> list[tuple[float, str]]:
    """The callbacks asyncio's debug mode reported in this app's log from byte ``since`` on (the
    run's start), longest first."""
    with server.log_path.open("rb") as log:
        log.seek(since)
        text = log.read().decode(errors="replace")
    return sorted(((float(m[2]), m[1]) for m in _EXECUTING.finditer(text)), reverse=True)


def stack(
    ctx: Context, database: str | None, *, slow_callbacks: tuple[str, ...] = ()
) -> tuple[dict[str, common.Server], list[str]]:
    """The four apps as ``make run`` starts them, migrated and seeded; schemas to drop after."""
    env = app_env(ctx)
    for app in APPS:  # as make run: the background passes run (discovery, retention, …)
        env[f"DOORSTEP_{app.upper()}_ENVIRONMENT"] = "development"
        if app in slow_callbacks:
            env[f"DOORSTEP_{app.upper()}_SLOW_CALLBACK_MS"] = f"{GOAL_LAG_MS:g}"
    # Every phone here signs in from 127.0.0.1: lift the token endpoint's per-address limit
    # (30 a minute) as app_env lifts the others; the sign-in throttle per account stays.
    env["DOORSTEP_GATEWAY_RATE_LIMIT_TOKEN"] = "100000000/minute"  # noqa: S105 (a rate, not a secret)
    schemas: list[str] = []
    if database:
        for app in APPS:
            schema = f"bench_mixed_{app}_{uuid.uuid4().hex[:6]}"
            schemas.append(schema)
            env[f"DOORSTEP_{app.upper()}_DATABASE_URL"] = database
            env[f"DOORSTEP_{app.upper()}_DATABASE_SCHEMA"] = schema
            # 12 kept (+3 for a moment) per app: 60 of the server's 100 connections at most.
            env[f"DOORSTEP_{app.upper()}_DATABASE_POOL_SIZE"] = "12"
    seed = common.seed_demo(env)
    if seed.returncode != 0:
        raise SystemExit(f"launcher --seed-only failed: {seed.stderr[-2000:]}")
    from doorstep_tools.launcher import HTTP_PROTOCOL

    def serve(app: str, app_specific: dict[str, str]) -> common.Server:
        server = app_server(ctx, app, {**env, **app_specific})
        server.cmd += ["--no-server-header", "--http", HTTP_PROTOCOL]  # as make run serves them
        return server

    catalog = serve("catalog", {})
    proxy = serve("proxy", {"DOORSTEP_PROXY_CATALOG_URL": catalog.url})
    stations = serve("stations", {"DOORSTEP_STATIONS_CATALOG_URL": catalog.url})
    upstreams = {"catalog": catalog.url, "proxy": proxy.url, "stations": stations.url}
    gateway = serve("gateway", {f"DOORSTEP_GATEWAY_{name.upper()}_URL": url for name, url in upstreams.items()})
    return {"gateway": gateway, "catalog": catalog, "proxy": proxy, "stations": stations}, schemas


def drop_schemas(url: str, schemas: list[str]) -> None:
    from sqlalchemy import text

    from doorstep_shared.db.engine import create_engine

    async def drop() -> None:
        engine = create_engine(url, null_pool=True)
        async with engine.begin() as conn:
            for schema in schemas:
                await conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        await engine.dispose()

    asyncio.run(drop())


def report(backend: str, r: dict[str, Any], args: argparse.Namespace) -> None:
    pacing = f"paced to {args.rate:g} req/s offered" if args.rate else "closed loop, no pacing"
    print(f"### {backend}: {args.clients} clients, {r['seconds']:.0f} s, {pacing}\n")
    print("| endpoint | requests | errors | p50 ms | p99 ms | max ms |")
    print("|---|---:|---:|---:|---:|---:|")
    for label, e in r["endpoints"].items():
        print(
            f"| {label} | {e['count']:,} | {e['errors']} | {e['p50_ms']:.1f} | {e['p99_ms']:.1f} | {e['max_ms']:.0f} |"
        )
    print(
        f"| **all** | {r['requests']:,} | {r['errors']} | {r['p50_ms']:.1f} | {r['p99_ms']:.1f} | {r['max_ms']:.0f} |"
    )
    print(f"\n{r['rps']:.0f} req/s overall (after {r['settled_s']:.0f} s for the first discovery pass to end).\n")
    print(
        "| app | CPU s during the run | loop-lag samples | lag > 50 ms | longest lag ms "
        "| busy lag > 50 ms | longest busy lag ms | full GCs | longest full GC ms |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for app, lag in r["lag"].items():
        busy, full = r["busy_lag"][app], r["gc2"][app]
        print(
            f"| {app} | {r['cpu_s'][app]:.1f} | {lag['samples']:.0f} | {lag['over_50ms']:.0f} | {_longest(lag)} "
            f"| {busy['over_50ms']:.0f} | {_longest(busy)} | {full['samples']:.0f} "
            f"| {_longest(full) if full['samples'] else '—'} |"
        )
    for sample in r["error_samples"]:
        print(f"\nerror: {sample}")
    goals = [f"p99 {r['p99_ms']:.0f} ms < {GOAL_P99_MS[backend]:g} ms {verdict(r['p99_ms'] < GOAL_P99_MS[backend])}"]
    if backend in GOAL_MAX_MS:
        goals.append(
            f"max {r['max_ms']:.0f} ms < {GOAL_MAX_MS[backend]:g} ms {verdict(r['max_ms'] < GOAL_MAX_MS[backend])}"
        )
    worst = max((lag["max_ms"] or 0.0) for lag in r["busy_lag"].values())
    blocked = sum(lag["over_50ms"] or 0 for lag in r["busy_lag"].values())
    late = sum(lag["over_50ms"] or 0 for lag in r["lag"].values())
    if r["slow"]:  # --slow-callbacks: asyncio timed every callback; one over 50 ms is a blocking call
        print("\n| app | callbacks that held the loop > 50 ms | longest ms |\n|---|---:|---:|")
        for app, slow in r["slow"].items():
            lines = r.get("slow_lines", {}).get(app)
            longest = f"{lines[0][0] * 1000:.0f}" if lines else "—"
            print(f"| {app} | {slow['count']:.0f} | {longest} |")
        for app, lines in r.get("slow_lines", {}).items():
            for seconds, handle in lines[:5]:
                print(f"\n{app}: {seconds * 1000:.0f} ms {re.sub(r' at 0x[0-9a-f]+', '', handle)[:300]}")
        calls = sum(slow["count"] for slow in r["slow"].values())
        goals.append(
            f"no callback held an app's event loop > {GOAL_LAG_MS:g} ms ({calls:.0f} did) {verdict(calls == 0)}"
        )
    goals.append(
        f"no loop turn > {GOAL_LAG_MS:g} ms of an app's own CPU (longest busy lag {worst:.0f} ms, "
        f"{blocked:.0f} samples over) {verdict(blocked == 0)}; the loops woke > {GOAL_LAG_MS:g} ms late "
        f"{late:.0f} times in all (busy or waiting for a core) {verdict(late == 0)}"
    )
    print(f"\nGoals ({backend}): " + "; ".join(goals) + ".\n")


def _longest(lag: dict[str, Any]) -> str:
    if lag["max_ms"] is None:
        return "—"
    return f"{'' if lag['max_exact'] else '≤ '}{lag['max_ms']:.0f}"


def verdict(ok: bool) -> str:
    return "**met**" if ok else "**not met**"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10-second runs")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=None, help="default 30 (quick: 10)")
    parser.add_argument("--rate", type=float, default=160.0, help="requests a second offered (0: closed loop)")
    parser.add_argument("--sqlite-only", action="store_true")
    parser.add_argument("--postgresql-only", action="store_true", help="skip the SQLite run")
    parser.add_argument(
        "--slow-callbacks",
        action="append",
        default=[],
        choices=APPS,
        help="run this app in asyncio's debug mode and report the callbacks that held its loop > 50 ms, "
        "by name (tells a blocking call from a saturated loop; debug mode costs CPU)",
    )
    parser.add_argument(
        "--profile", action="append", default=[], choices=APPS, help="sample this app with py-spy during the run"
    )
    parser.add_argument("--profile-dir", default=".", help="where py-spy's collapsed stacks are written")
    args = parser.parse_args()
    seconds = args.seconds or (10.0 if args.quick else 30.0)
    warnings.simplefilter("ignore")
    pg = os.environ.get("DOORSTEP_BENCH_DATABASE_URL") or os.environ.get("BENCH_PG_URL")
    backends = [] if args.postgresql_only and pg else [("SQLite", None)]
    backends += [] if args.sqlite_only or not pg else [("PostgreSQL", pg)]
    for backend, database in backends:
        with tempfile.TemporaryDirectory() as tmp_name:
            ctx = Context(Plan.of(quick=True), Path(tmp_name), force_loadgen=True)
            servers, schemas = stack(ctx, database, slow_callbacks=tuple(args.slow_callbacks))
            try:
                with common.serving(list(servers.values())):
                    visits = max(10, int(seconds * args.rate * 0.5 * 0.08 / 2)) if args.rate else 200
                    profiles = {app: Path(args.profile_dir) / f"{app}-{backend}.folded" for app in args.profile}
                    result = asyncio.run(
                        load(servers["gateway"].url, servers, args.clients, seconds, args.rate, visits, profiles)
                    )
                result["slow_lines"] = {
                    app: slow_lines(servers[app], result["log_offsets"][app]) for app in args.slow_callbacks
                }
            finally:
                if database and schemas:
                    drop_schemas(database, schemas)
            report(backend, result, args)
    if not pg:
        print("PostgreSQL: not run (set DOORSTEP_BENCH_DATABASE_URL).")


if __name__ == "__main__":
    main()
