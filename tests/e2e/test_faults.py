"""Fault drills on the real system (uvicorn processes on loopback): kill, SIGTERM, a database
restart, a slow upstream and hostile input. Every drill is bounded in requests and time, and
leaves the system as it found it (services running, PostgreSQL up).

Measured figures are printed (``-s`` shows them) and summarised in docs/reliability.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import signal
import socket
import string
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.responses import JSONResponse

from ..fuzz import harness
from ..support import PG_URL, free_port
from .conftest import System, login, wait_healthy

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
PROBLEM_JSON = "application/problem+json"
CONNECT_TIMEOUT = 1.0  # the gateway's default upstream connect timeout (the e2e env keeps it)
SLOW_READ_TIMEOUT = 1.0  # read timeout of the extra gateway in the slow-upstream drill


@dataclass
class Outcome:
    path: str
    status: int  # 0: the client itself failed (timeout, reset)
    content_type: str
    detail: str
    started: float
    elapsed: float


async def hit(client: httpx.AsyncClient, method: str, path: str, **kwargs: Any) -> Outcome:
    started = time.monotonic()
    try:
        resp = await client.request(method, path, **kwargs)
    except httpx.HTTPError as exc:
        return Outcome(path, 0, "", type(exc).__name__, started, time.monotonic() - started)
    detail = ""
    if resp.headers.get("content-type", "").startswith(PROBLEM_JSON):
        detail = str(resp.json().get("detail", ""))
    return Outcome(
        path, resp.status_code, resp.headers.get("content-type", ""), detail, started, resp.elapsed.total_seconds()
    )


async def load(
    client: httpx.AsyncClient,
    paths: list[str],
    *,
    until: asyncio.Event,
    concurrency: int,
    limit: int,
    answered: tuple[int, asyncio.Event] | None = None,
) -> list[Outcome]:
    """GETs cycling over ``paths`` from ``concurrency`` workers until ``until`` is set (at most
    ``limit``); ``answered=(n, event)`` sets the event once n requests have been answered."""
    out: list[Outcome] = []

    async def worker(offset: int) -> None:
        i = offset
        while not until.is_set() and len(out) < limit:
            out.append(await hit(client, "GET", paths[i % len(paths)]))
            if answered is not None and len(out) >= answered[0]:
                answered[1].set()
            i += 1

    await asyncio.gather(*(worker(n) for n in range(concurrency)))
    return out


@contextlib.contextmanager
def counting_listener(port: int) -> Iterator[list[int]]:
    """A TCP listener on ``port`` that accepts and closes at once, counting connection attempts."""
    accepted = [0]
    stop = threading.Event()
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen(256)
    sock.settimeout(0.05)

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            accepted[0] += 1
            conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield accepted
    finally:
        stop.set()
        thread.join(timeout=2)
        sock.close()


def bearer(system: System, username: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {login(system, username)}"}


async def wait_until_ok(client: httpx.AsyncClient, path: str, within: float) -> float:
    """Seconds until ``path`` answers 200 (polling every 100 ms); fails after ``within`` seconds."""
    started = time.monotonic()
    while time.monotonic() - started < within:
        if (await hit(client, "GET", path)).status == 200:
            return time.monotonic() - started
        await asyncio.sleep(0.1)
    raise AssertionError(f"{path} did not recover within {within} s")


def restart_if_stopped(system: System, app: str) -> None:
    if app not in system.procs or system.procs[app].poll() is not None:
        system.procs.pop(app, None)
        system.start(app)


# --- (a) a service dies under load -------------------------------------------------------------


async def test_killed_service_gets_503_fast_others_unaffected_breaker_opens_and_it_recovers(system: System) -> None:
    headers = bearer(system, "zhenhuai.worker")
    gateway_pid = system.procs["gateway"].pid
    stations, catalog = "/api/v1/stations/stations?limit=5", "/api/v1/catalog/categories"
    try:
        # English problems: the breaker is recognised by its detail ("circuit open").
        english = {**headers, "Accept-Language": "en"}
        async with httpx.AsyncClient(base_url=system.url(), headers=english, timeout=10) as client:
            assert (await hit(client, "GET", stations)).status == 200
            stop = asyncio.Event()
            running = asyncio.create_task(load(client, [stations, catalog], until=stop, concurrency=12, limit=400))
            await asyncio.sleep(0.5)
            kill_sent = time.monotonic()
            await asyncio.to_thread(system.stop, "stations", signal.SIGKILL)
            dead_at = time.monotonic()  # reaped: its sockets are closed from here on
            await asyncio.sleep(2.0)
            stop.set()
            outcomes = await running

            # A request the service had taken when it died has no answer to relay: 502, as nginx
            # says it. Only requests started once it was gone must all be 503.
            dying = [o for o in outcomes if o.path == stations and kill_sent <= o.started <= dead_at]
            assert {o.status for o in dying} <= {200, 502, 503}, {o.status for o in dying}
            after = [o for o in outcomes if o.path == stations and o.started > dead_at]
            others = [o for o in outcomes if o.path == catalog]
            assert others and all(o.status == 200 for o in others), {o.status for o in others}
            assert after, "no request reached the dead service"
            assert {o.status for o in after} == {503}, {o.status for o in after}
            assert all(o.content_type == PROBLEM_JSON for o in after)
            slowest = max(o.elapsed for o in after)
            assert slowest < CONNECT_TIMEOUT + 1.5, slowest
            assert any("circuit open" in o.detail for o in after), "the breaker never opened"

            # The breaker: with a listener counting connection attempts on the dead port, a steady
            # stream of requests through the gateway barely reaches it.
            with counting_listener(system.ports["stations"]) as accepted:
                stop = asyncio.Event()
                probing = asyncio.create_task(load(client, [stations], until=stop, concurrency=4, limit=300))
                await asyncio.sleep(2.5)
                stop.set()
                probes = await probing
            statuses = {o.status for o in probes}
            assert statuses <= {502, 503}, statuses
            assert accepted[0] <= max(8, len(probes) // 10), (accepted[0], len(probes))

            await asyncio.to_thread(system.start, "stations")
            recovered_in = await wait_until_ok(client, stations, within=15)
        assert system.procs["gateway"].pid == gateway_pid  # recovered without restarting the gateway
        print(
            f"\n[drill kill] {len(outcomes)} requests; {len(after)} to the dead service, all 503 problem+json, "
            f"slowest {slowest * 1000:.0f} ms; {len(others)} to catalog all 200; breaker: {len(probes)} requests, "
            f"{accepted[0]} connection attempts reached the dead port; back through the gateway "
            f"{recovered_in:.1f} s after the service was healthy"
        )
    finally:
        restart_if_stopped(system, "stations")


# --- (c) SIGTERM under load ----------------------------------------------------------------------


async def test_sigterm_finishes_in_flight_requests_refuses_new_ones_and_exits_cleanly(system: System) -> None:
    headers = bearer(system, "chaoyang.admin")
    items = "/api/v1/catalog/items?limit=100"
    log = system.log_dir / "catalog.log"
    log_offset = log.stat().st_size
    proc = system.procs["catalog"]
    try:
        async with httpx.AsyncClient(base_url=system.url(), headers=headers, timeout=10) as client:
            assert (await hit(client, "GET", items)).status == 200
            stop = asyncio.Event()
            warm = asyncio.Event()
            running = asyncio.create_task(
                load(client, [items], until=stop, concurrency=16, limit=400, answered=(40, warm))
            )
            # Signal while the load is surely running: after its first 40 answers, with 16 more
            # requests in flight (a fixed sleep let a fast machine finish all 400 before it).
            await asyncio.wait_for(warm.wait(), timeout=30)
            signalled = time.monotonic()
            proc.send_signal(signal.SIGTERM)
            code = await asyncio.to_thread(proc.wait, 20)
            exited = time.monotonic()
            await asyncio.sleep(0.5)
            stop.set()
            outcomes = await running
        system.procs.pop("catalog")
        # In flight from the client's view. A request still in the socket of a kept-alive
        # connection when uvicorn closes it never reached the app: the gateway retries it once on
        # a fresh connection, is refused, and answers 503. Requests the app was serving finish.
        # How many of the in-flight ones the app had already taken depends on the machine's load
        # (CI saw 6 of 13; a quiet machine most), so the test asks for the two facts that hold on
        # any machine: some request answered 200 after the signal (the app drained instead of
        # dropping), and nothing in flight got anything but a 200 or a 503 problem+json.
        in_flight = [o for o in outcomes if o.started < signalled < o.started + o.elapsed]
        finished = [o for o in in_flight if o.status == 200]
        statuses = {o.status for o in outcomes}
        assert statuses <= {200, 503}, statuses
        assert all(o.content_type == PROBLEM_JSON for o in outcomes if o.status == 503)
        assert in_flight and finished, [o.status for o in in_flight]
        # uvicorn re-raises the signal after its graceful shutdown, so "clean" is: killed by
        # SIGTERM only after the lifespan shut down (or 0), never a crash or a SIGKILL.
        assert code in (0, -signal.SIGTERM), code
        tail = log.read_bytes()[log_offset:].decode(errors="replace")
        assert "Application shutdown complete" in tail and "Traceback" not in tail, tail[-2000:]
        print(
            f"\n[drill sigterm] {len(outcomes)} requests, {len(in_flight)} in flight at SIGTERM, {len(finished)} "
            "finished with 200, the rest 503 problem+json; "
            f"statuses {sorted(statuses)}; exit {code} {exited - signalled:.2f} s after the signal"
        )
    finally:
        restart_if_stopped(system, "catalog")


# --- (d) a slow upstream -----------------------------------------------------------------------

slow_upstream = FastAPI()


@slow_upstream.get("/healthz")
async def _slow_health() -> dict[str, str]:
    return {"status": "ok"}


@slow_upstream.get("/{path:path}")
async def _slow(path: str) -> JSONResponse:
    await asyncio.sleep(30)
    return JSONResponse({"path": path})


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def _open_fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def _connections_to(port: int) -> int:
    """Established loopback TCP connections whose remote end is ``port`` (the gateway's, here)."""
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(FileNotFoundError):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                if int(fields[2].rsplit(":", 1)[1], 16) == port and fields[3] == "01":
                    count += 1
    return count


def _spawn(cmd: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=REPO)  # noqa: S603


async def test_slow_upstream_gets_504_promptly_with_bounded_memory_and_connections(system: System) -> None:
    slow_port, gateway_port = free_port(), free_port()
    uvicorn = [sys.executable, "-m", "uvicorn", "--host", "127.0.0.1"]
    slow = _spawn(
        [*uvicorn, "--port", str(slow_port), "tests.e2e.test_faults:slow_upstream"],
        system.env,
        system.log_dir / "slow.log",
    )
    env = {
        **system.env,
        "DOORSTEP_GATEWAY_PORT": str(gateway_port),
        "DOORSTEP_GATEWAY_STATIONS_URL": f"http://127.0.0.1:{slow_port}",
        "DOORSTEP_GATEWAY_UPSTREAM_READ_TIMEOUT": str(SLOW_READ_TIMEOUT),
    }
    gateway = _spawn(
        [*uvicorn, "--port", str(gateway_port), "--factory", "doorstep_gateway.main:create_app"],
        env,
        system.log_dir / "gateway-slow.log",
    )
    try:
        await asyncio.to_thread(wait_healthy, f"http://127.0.0.1:{slow_port}", slow)
        await asyncio.to_thread(wait_healthy, f"http://127.0.0.1:{gateway_port}", gateway)
        headers = bearer(system, "county.admin")  # same signing key: the extra gateway trusts it
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{gateway_port}", headers=headers, timeout=10
        ) as client:
            assert (await hit(client, "GET", "/api/v1/catalog/categories")).status == 200
            rss_before, fds_before = _rss_kib(gateway.pid), _open_fds(gateway.pid)
            rounds = []
            peak = 0
            for _ in range(3):
                burst = asyncio.gather(*(hit(client, "GET", f"/api/v1/stations/stations?n={n}") for n in range(60)))
                await asyncio.sleep(SLOW_READ_TIMEOUT / 2)
                peak = max(peak, _connections_to(slow_port))
                rounds.append(await burst)
                # the other services stay reachable while one hangs
                assert (await hit(client, "GET", "/api/v1/catalog/categories")).status == 200
        await asyncio.sleep(0.5)  # our keep-alive connections to the gateway are closed now too
        rss_after, fds_after = _rss_kib(gateway.pid), _open_fds(gateway.pid)
        upstream_after = _connections_to(slow_port)
        outcomes = [o for r in rounds for o in r]
        assert {o.status for o in outcomes} == {504}, {o.status for o in outcomes}
        assert all(o.content_type == PROBLEM_JSON for o in outcomes)
        slowest = max(o.elapsed for o in outcomes)
        assert slowest < SLOW_READ_TIMEOUT + 1.5, slowest
        assert rss_after - rss_before < 30 * 1024, (rss_before, rss_after)
        assert fds_after <= fds_before + 5, (fds_before, fds_after)
        assert upstream_after == 0, upstream_after  # timed-out upstream connections are closed, not pooled
        print(
            f"\n[drill slow] {len(outcomes)} requests to a hanging upstream, all 504 in "
            f"{min(o.elapsed for o in outcomes) * 1000:.0f}-{slowest * 1000:.0f} ms (read timeout "
            f"{SLOW_READ_TIMEOUT} s); gateway RSS {rss_before // 1024}->{rss_after // 1024} MiB, "
            f"open fds {fds_before}->{fds_after}; connections to the upstream: peak {peak}, after {upstream_after}"
        )
    finally:
        slow.kill()  # its requests sleep for 30 s: a graceful stop would wait for them
        gateway.terminate()
        for proc in (gateway, slow):
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


# --- (e) hostile input -------------------------------------------------------------------------


WRITES = {
    "catalog": "/api/v1/catalog/categories",
    "proxy": "/api/v1/proxy/demands",
    "stations": "/api/v1/stations/stations/shuxiang/tickets",
}
READS = {
    "catalog": "/api/v1/catalog/items",
    "proxy": "/api/v1/proxy/residents",
    "stations": "/api/v1/stations/stations",
}


def _hostile_requests(prefix: str) -> list[tuple[str, str, dict[str, Any], bool]]:
    """(label, method+path, httpx kwargs, must be refused) for one service's API under ``prefix``."""
    write, read = WRITES[prefix], READS[prefix]
    json_headers = {"Content-Type": "application/json"}
    deep = b"[" * 100_000 + b"]" * 100_000
    deep_obj = b'{"a":' * 50_000 + b"1" + b"}" * 50_000
    malformed: list[tuple[str, str, dict[str, Any]]] = [
        ("deeply nested array", f"POST {write}", {"content": deep, "headers": json_headers}),
        ("deeply nested object", f"POST {write}", {"content": deep_obj, "headers": json_headers}),
        ("invalid UTF-8", f"POST {write}", {"content": b'{"name": "\xff\xfe\xc3"}', "headers": json_headers}),
        ("truncated JSON", f"POST {write}", {"content": b'{"name": "x', "headers": json_headers}),
        ("JSON null", f"POST {write}", {"content": b"null", "headers": json_headers}),
        ("huge strings", f"POST {write}", {"json": {"name": "字" * 1_000_000, "item": "x" * 1_000_000}}),
        ("2 MB of garbage", f"POST {write}", {"content": os.urandom(2 * 1024 * 1024), "headers": json_headers}),
        ("wrong content type", f"POST {write}", {"content": b"name=x", "headers": {"Content-Type": "text/plain"}}),
        ("NUL in JSON", f"POST {write}", {"content": b'{"name": "a\\u0000b"}', "headers": json_headers}),
        ("bad cursor and limit", f"GET {read}?cursor=%FF%FE%00&limit=-1", {}),
        ("cursor of garbage", f"GET {read}?cursor={'A' * 500}", {}),
        ("bad percent-encoding", f"GET {read}/%E0%A4%A", {}),
    ]
    # Well-formed but big: ignoring what is not understood is fine (2xx), failing or hanging is not.
    big: list[tuple[str, str, dict[str, Any]]] = [
        ("huge query string", f"GET {read}?q={'x' * 60_000}", {}),
        ("many query params", f"GET {read}?" + "&".join(f"p{n}=1" for n in range(2_000)), {}),
        ("header flood", f"GET {read}", {"headers": {f"x-flood-{n}": "y" * 100 for n in range(300)}}),
        ("one huge header", f"GET {read}", {"headers": {"x-big": "z" * 70_000}}),
    ]
    return [(label, line, kwargs, True) for label, line, kwargs in malformed] + [
        (label, line, kwargs, False) for label, line, kwargs in big
    ]


@pytest.mark.parametrize("target", ["gateway", "catalog", "proxy", "stations"])
async def test_hostile_input_gets_4xx_never_5xx_never_a_hang(system: System, target: str) -> None:
    headers = bearer(system, "county.admin") if target == "gateway" else bearer(system, "chaoyang.admin")
    services = ["catalog", "proxy", "stations"]
    cases = [c for s in services for c in _hostile_requests(s)] if target == "gateway" else _hostile_requests(target)
    if target == "gateway":  # its body limit (16 MiB by default): 413 before anything is forwarded
        over = {"content": b"x" * (16 * 1024 * 1024 + 1), "headers": {"Content-Type": "application/json"}}
        cases.append(("body over the gateway's limit", f"POST {WRITES['catalog']}", over, True))
    bad = []
    slowest = 0.0
    async with httpx.AsyncClient(base_url=system.url(target), headers=headers, timeout=10) as client:
        for label, line, kwargs, refused in cases:
            method, path = line.split(" ", 1)
            outcome = await hit(client, method, path, **kwargs)
            slowest = max(slowest, outcome.elapsed)
            allowed = range(400, 500) if refused else range(200, 500)
            # 0 + RemoteProtocolError: the server dropped an oversized request line/header, also a refusal
            if not (outcome.status in allowed or (outcome.status == 0 and outcome.detail == "RemoteProtocolError")):
                bad.append((label, path[:60], outcome.status, outcome.detail[:300]))
        # still serving afterwards
        assert (await hit(client, "GET", READS["catalog" if target == "gateway" else target])).status == 200
    assert not bad, bad
    print(
        f"\n[drill hostile {target}] {len(cases)} hostile requests, malformed ones refused with 4xx, none 5xx, slowest {slowest:.2f} s"
    )


# --- the merged document, fuzzed through the gateway -------------------------------------------


def _merged_document(system: System) -> dict[str, Any]:
    """The gateway's merged document with all three services in it. A service's part can be
    missing right after the drills above restarted it (the gateway's first fetch may meet a pooled
    connection the old process closed); a failed fetch is not cached, so asking again is enough."""
    doc: dict[str, Any] = {}
    for _ in range(20):
        doc = httpx.get(f"{system.url()}/openapi.json", timeout=10).json()
        if "x-unavailable" not in doc:
            return doc
        time.sleep(0.25)
    raise AssertionError(f"services missing from the merged document: {doc['x-unavailable']}")


def test_merged_document_reads_survive_fuzzing_through_the_gateway(system: System) -> None:
    """The services' GET operations as the gateway documents and forwards them (writes are fuzzed
    in-process in tests/fuzz, where they cannot disturb the shared system)."""
    from ..fuzz import test_catalog_api, test_proxy_api, test_stations_api

    known = {**test_catalog_api.KNOWN_FAILURES, **test_proxy_api.KNOWN_FAILURES, **test_stations_api.KNOWN_FAILURES}
    doc = _merged_document(system)
    schema = harness.load(doc)
    tokens = {"admin": bearer(system, "chaoyang.admin"), "worker": bearer(system, "chaoyang.worker")}
    ops = [
        op
        for op in harness.operations(doc)
        if op.method == "GET" and op.path.split("/")[3:4] in (["catalog"], ["proxy"], ["stations"])
    ]
    failures = []
    reached = 0
    for op in ops:
        if op.label in known:
            continue
        try:
            tally = harness.fuzz(
                schema,
                op,
                base_url=system.url(),
                headers_of={who: partial(dict, h) for who, h in tokens.items()},
                examples=harness.MERGED_EXAMPLES,
                app_name="merged",
            )
            reached += tally.reached > 0
        except (Exception, BaseExceptionGroup) as exc:  # schemathesis' FailureGroup is an exception group
            failures.append(f"{op.label}: {str(exc)[:1500]}")
    assert not failures, "\n\n".join(failures)
    print(f"\n[fuzz merged] {reached} of {len(ops)} GET operations reached their handler through the gateway")
    # The gateway's limiter is lifted for the system (tests/e2e/conftest.py): what is left are
    # operations neither identity may call.
    assert reached >= len(ops) * 3 // 4, (reached, len(ops))


# --- (b) PostgreSQL restarts while a service is serving ------------------------------------------


def _pg_ctl(action: str) -> None:
    version = os.listdir("/etc/postgresql")[0]
    subprocess.run(  # noqa: S603
        ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", action],  # noqa: S607
        check=True,
        capture_output=True,
        timeout=60,
    )


def _pg_ready() -> bool:
    return subprocess.run(["pg_isready", "-h", "127.0.0.1", "-p", "5432"], capture_output=True).returncode == 0  # noqa: S607


def _ensure_pg_up() -> None:
    deadline = time.monotonic() + 30
    while not _pg_ready():
        if time.monotonic() > deadline:
            _pg_ctl("start")
            deadline = time.monotonic() + 30
        time.sleep(0.2)


@pytest.mark.slow
async def test_postgres_restart_fails_cleanly_recovers_and_keeps_every_acknowledged_write(
    system: System, db_backend: str
) -> None:
    if db_backend != "postgresql" or not PG_URL:
        pytest.skip("PostgreSQL drill: runs only on the PostgreSQL backend")
    headers = bearer(system, "shuxiang.keeper")
    # Letters only: a run of digits such as a timestamp reads as a phone number and comes back masked.
    marker = "drill-" + "".join(random.choices(string.ascii_lowercase, k=12))
    acked: list[int] = []
    outcomes: list[Outcome] = []
    path = "/api/v1/stations/stations/shuxiang/tickets"

    async def writer(client: httpx.AsyncClient, until: asyncio.Event, worker: int) -> None:
        n = 0
        while not until.is_set() and len(outcomes) < 2_000:
            body = {"name": "演练", "phone": "13800138000", "item": f"{marker}-{worker}-{n}", "request": "演练"}
            started = time.monotonic()
            try:
                resp = await client.post(path, json=body)
            except httpx.HTTPError as exc:
                outcomes.append(Outcome(path, 0, "", type(exc).__name__, started, time.monotonic() - started))
            else:
                outcomes.append(
                    Outcome(path, resp.status_code, resp.headers.get("content-type", ""), resp.text[:200], started, 0)
                )
                if resp.status_code == 201:
                    acked.append(int(resp.json()["id"]))
            n += 1
            await asyncio.sleep(0.05)

    try:
        async with httpx.AsyncClient(base_url=system.url("stations"), headers=headers, timeout=15) as client:
            stop = asyncio.Event()
            writers = asyncio.gather(*(writer(client, stop, w) for w in range(4)))
            await asyncio.sleep(0.5)
            restarted_at = time.monotonic()
            await asyncio.to_thread(_pg_ctl, "stop")
            await asyncio.sleep(1.5)  # an outage long enough to be seen
            await asyncio.to_thread(_pg_ctl, "start")
            await asyncio.to_thread(_ensure_pg_up)
            pg_back = time.monotonic()
            recovered_in = await wait_until_ok(client, "/api/v1/stations/stations/shuxiang", within=20)
            await asyncio.sleep(0.5)
            stop.set()
            await writers
            statuses = {o.status for o in outcomes}
            failed = [o for o in outcomes if o.status != 201]
            assert statuses <= {201, 503}, [(o.status, o.detail) for o in failed if o.status != 503][:5]
            assert all(o.content_type == PROBLEM_JSON for o in failed)
            assert failed, "the outage was not observed"
            assert any(o.status == 201 and o.started > pg_back for o in outcomes), "writes did not resume"
            # every acknowledged write is there
            for ticket_id in acked:
                resp = await client.get(f"/api/v1/stations/tickets/{ticket_id}")
                assert resp.status_code == 200, (ticket_id, resp.status_code)
                assert resp.json()["item"].startswith(marker)
        rows = await _count_tickets(system, marker)
        assert rows >= len(acked), (rows, len(acked))
        print(
            f"\n[drill postgres] {len(outcomes)} writes: {len(acked)} acknowledged (all found, {rows} rows), "
            f"{len(failed)} refused with 503 problem+json during the outage; service answered again "
            f"{recovered_in:.1f} s after PostgreSQL was back ({pg_back - restarted_at:.1f} s outage)"
        )
    finally:
        await asyncio.to_thread(_ensure_pg_up)


async def _count_tickets(system: System, marker: str) -> int:
    from sqlalchemy import text

    from doorstep_shared.db import create_engine

    schema = system.env["DOORSTEP_STATIONS_DATABASE_SCHEMA"]
    engine = create_engine(PG_URL, null_pool=True)
    try:
        async with engine.connect() as conn:
            result = await conn.execute(
                text(f'SELECT count(*) FROM "{schema}".dropoff_ticket WHERE item LIKE :m'), {"m": f"{marker}-%"}
            )
            return int(result.scalar_one())
    finally:
        await engine.dispose()
