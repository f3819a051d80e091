"""Shared helpers of the benchmark harness: processes, /proc readings, load runs, the machine.

Everything listens on 127.0.0.1 only; every load run is bounded in time (and, for the
fallback generator, in request count).
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
PYTHON = sys.executable
CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# --- /proc ----------------------------------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (its threads included)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    # after the comm field: state=0 ... utime=11, stime=12
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def rss_bytes(pid: int) -> int:
    with open(f"/proc/{pid}/statm") as f:
        return int(f.read().split()[1]) * PAGE_SIZE


# --- processes ------------------------------------------------------------------------------


@dataclass
class Server:
    """A child process serving HTTP on a loopback port (uvicorn app or nginx)."""

    name: str
    cmd: list[str]
    port: int
    env: dict[str, str]
    log_path: Path
    health_path: str = "/healthz"
    proc: subprocess.Popen[bytes] | None = None
    startup_seconds: float = 0.0
    rss_samples: list[int] = field(default_factory=list)

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60.0) -> None:
        started = time.monotonic()
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                self.cmd,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=REPO_ROOT,
                start_new_session=True,
            )
        wait_http_ok(self.url + self.health_path, self.proc, timeout)
        self.startup_seconds = time.monotonic() - started

    def cpu(self) -> float:
        return cpu_seconds(self.pid)

    def rss(self) -> int:
        value = rss_bytes(self.pid)
        self.rss_samples.append(value)
        return value

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=5)

    def log_tail(self, chars: int = 2000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""


def wait_http_ok(url: str, proc: subprocess.Popen[bytes], timeout: float) -> None:
    """Poll ``url`` until it answers 200 (the start-up time is measured up to here)."""
    host, port, path = _split(url)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{url}: process exited with {proc.returncode} while starting")
        try:
            with socket.create_connection((host, port), timeout=1) as s:
                s.sendall(f"GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
                head = s.recv(64)
            if head.startswith(b"HTTP/1.1 200"):
                return
        except OSError:
            pass
        time.sleep(0.02)
    raise RuntimeError(f"{url} did not answer 200 within {timeout:.0f} s")


def _split(url: str) -> tuple[str, int, str]:
    m = re.match(r"http://([^:/]+):(\d+)(/.*)?$", url)
    if not m:
        raise ValueError(url)
    return m.group(1), int(m.group(2)), m.group(3) or "/"


def uvicorn_cmd(factory: str, port: int) -> list[str]:
    return [
        PYTHON,
        "-m",
        "uvicorn",
        factory,
        "--factory",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--no-access-log",
        "--log-level",
        "warning",
    ]


@contextlib.contextmanager
def serving(servers: Sequence[Server]) -> Iterator[None]:
    try:
        for server in servers:
            server.start()
        yield
    finally:
        for server in reversed(servers):
            server.stop()


def seed_demo(env: Mapping[str, str], timeout: float = 600.0) -> subprocess.CompletedProcess[str]:
    """Migrate the four apps' databases and load the demo data, as ``make run`` does first."""
    return subprocess.run(
        [PYTHON, "-m", "doorstep_tools.launcher", "--seed-only"],
        env=dict(env),
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


# --- nginx ----------------------------------------------------------------------------------

NGINX_CONF = """\
daemon off;
master_process off;
worker_processes 1;
pid {tmp}/nginx.pid;
error_log {tmp}/nginx-error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    upstream service {{
        server 127.0.0.1:{upstream};
        keepalive 64;
    }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://service;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header X-Forwarded-For $remote_addr;
        }}
    }}
}}
"""


def nginx_binary() -> str | None:
    return shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if os.access(p, os.X_OK)), None
    )


def nginx_server(tmp: Path, upstream_port: int, env: Mapping[str, str]) -> Server | None:
    """nginx as a non-daemon, single-process child proxying to ``upstream_port``; None if absent."""
    binary = nginx_binary()
    if binary is None:
        return None
    root = tmp / "nginx"
    root.mkdir(parents=True, exist_ok=True)
    port = free_port()
    conf = root / "nginx.conf"
    conf.write_text(NGINX_CONF.format(tmp=root, upstream=upstream_port, port=port))
    return Server(
        name="nginx",
        cmd=[binary, "-p", str(root), "-c", str(conf), "-e", str(root / "nginx-error.log")],
        port=port,
        env=dict(env),
        log_path=root / "nginx.log",
    )


# --- load -----------------------------------------------------------------------------------


@dataclass
class LoadResult:
    tool: str
    connections: int
    seconds: float
    requests: int
    errors: int
    rps: float
    p50_ms: float
    p99_ms: float

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def wrk_binary() -> str | None:
    return shutil.which("wrk")


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(text: str) -> float:
    m = re.match(r"([\d.]+)(us|ms|s|m)$", text)
    if not m:
        raise ValueError(text)
    return float(m.group(1)) * _UNITS[m.group(2)]


def run_wrk(url: str, *, connections: int, seconds: float, headers: Mapping[str, str] | None = None) -> LoadResult:
    wrk = wrk_binary()
    assert wrk is not None
    threads = max(1, min(2, connections))
    duration = f"{max(1, round(seconds))}s"  # wrk takes whole seconds
    cmd = [wrk, "-t", str(threads), "-c", str(connections), "-d", duration, "--latency"]
    for k, v in (headers or {}).items():
        cmd += ["-H", f"{k}: {v}"]
    cmd.append(url)
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 30).stdout
    latency = dict(re.findall(r"^\s+(50|99)%\s+(\S+)\s*$", out, re.M))
    m = re.search(r"(\d+) requests in ([\d.]+)(\w+)", out)
    if not m or "50" not in latency or "99" not in latency:
        raise RuntimeError(f"could not read wrk output:\n{out}")
    requests = int(m.group(1))
    elapsed = _ms(m.group(2) + m.group(3)) / 1000
    errors = 0
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if non2xx:
        errors += int(non2xx.group(1))
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if sock:
        errors += sum(int(x) for x in sock.groups())
    return LoadResult(
        "wrk",
        connections,
        elapsed,
        requests,
        errors,
        requests / elapsed if elapsed else 0.0,
        _ms(latency["50"]),
        _ms(latency["99"]),
    )


def run_loadgen(
    url: str,
    *,
    connections: int,
    seconds: float,
    headers: Mapping[str, str] | None = None,
    max_requests: int = 2_000_000,
) -> LoadResult:
    cmd = [
        PYTHON,
        str(BENCH_DIR / "loadgen.py"),
        url,
        "-c",
        str(connections),
        "-d",
        f"{seconds:g}",
        "-n",
        str(max_requests),
        "--json",
    ]
    for k, v in (headers or {}).items():
        cmd += ["-H", f"{k}: {v}"]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 30)
    if done.returncode != 0:
        raise RuntimeError(f"loadgen failed: {done.stderr[-2000:]}")
    data = json.loads(done.stdout)
    return LoadResult(
        "loadgen",
        connections,
        data["seconds"],
        data["requests"],
        data["errors"],
        data["rps"],
        data["p50_ms"],
        data["p99_ms"],
    )


def load(
    url: str,
    *,
    connections: int,
    seconds: float,
    headers: Mapping[str, str] | None = None,
    force_loadgen: bool = False,
) -> LoadResult:
    if wrk_binary() and not force_loadgen:
        return run_wrk(url, connections=connections, seconds=seconds, headers=headers)
    return run_loadgen(url, connections=connections, seconds=seconds, headers=headers)


# --- the machine ----------------------------------------------------------------------------


def _first(path: str, pattern: str) -> str | None:
    try:
        text = Path(path).read_text()
    except OSError:
        return None
    m = re.search(pattern, text, re.M)
    return m.group(1).strip() if m else None


def _version(cmd: list[str]) -> str | None:
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    text = (done.stdout + done.stderr).strip().splitlines()
    return text[0].split(" Copyright")[0] if text else None


PACKAGES = [
    "fastapi",
    "starlette",
    "uvicorn",
    "uvloop",
    "httptools",
    "httpx",
    "httpcore",
    "httpx-aiohttp",
    "aiohttp",
    "sniffio",
    "anyio",
    "pydantic",
    "sqlalchemy",
    "sqlmodel",
    "asyncpg",
    "aiosqlite",
    "pyjwt",
]


def machine() -> dict[str, Any]:
    mem_kb = _first("/proc/meminfo", r"^MemTotal:\s+(\d+)")
    versions: dict[str, str | None] = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    wrk = wrk_binary()
    nginx = nginx_binary()
    return {
        "cpu_model": _first("/proc/cpuinfo", r"^model name\s*:\s*(.+)$") or platform.processor(),
        "cores": os.cpu_count(),
        "ram_gib": round(int(mem_kb) / 1024 / 1024, 1) if mem_kb else None,
        "kernel": platform.release(),
        "os": _first("/etc/os-release", r'^PRETTY_NAME="?([^"\n]+)') or platform.platform(),
        "python": platform.python_version(),
        "packages": versions,
        "wrk": _version([wrk, "--version"]) if wrk else None,
        "nginx": _version([nginx, "-v"]) if nginx else None,
    }


def fmt_int(value: float) -> str:
    return f"{value:,.0f}"


def md_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


# --- what several module scripts share ------------------------------------------------------


def chaoyang_worker() -> Any:
    """The demo's grid worker (第六网格 of chaoyang), as the benchmarks sign their tokens for."""
    from doorstep_shared.auth.tokens import Principal

    return Principal(
        subject="chaoyang.worker",
        kind="user",
        name="bench",
        roles=frozenset({"social_worker"}),
        community="chaoyang",
        grid="chaoyang-g6",
    )


async def drop_schema(url: str, schema: str) -> None:
    """Drop a benchmark's throw-away PostgreSQL schema."""
    from sqlalchemy import text

    from doorstep_shared.db import create_engine

    engine = create_engine(url, null_pool=True)
    try:
        async with engine.begin() as conn:
            await conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    finally:
        await engine.dispose()


@dataclass
class InProcessStations:
    """The stations app for an in-process profile: its database (a SQLite file under ``tmp``, or
    a throw-away schema of DOORSTEP_BENCH_DATABASE_URL), migrated, and the signer of its tokens."""

    app: Any
    signer: Any
    url: str
    schema: str | None

    def bearer(self, principal: Any) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.signer.access_token(principal)[0]}"}

    async def close(self) -> None:
        if self.schema is not None:
            await drop_schema(self.url, self.schema)


async def stations_in_process(tmp: Path, prefix: str) -> InProcessStations:
    """The demo-directory stations app on a fresh database (no background worker)."""
    import asyncio
    import uuid

    from doorstep_shared.auth.tokens import KeySet, SigningKey, TokenSigner
    from doorstep_shared.db import migrations
    from doorstep_shared.directory import demo_directory_file
    from doorstep_stations.config import StationsSettings
    from doorstep_stations.main import create_app

    pg = os.environ.get("DOORSTEP_BENCH_DATABASE_URL")
    url = pg or f"sqlite+aiosqlite:///{tmp / 'stations.db'}"
    schema = f"{prefix}_{uuid.uuid4().hex[:8]}" if pg else None
    await asyncio.to_thread(migrations.upgrade, "doorstep_stations", url, schema)
    key = SigningKey.generate("profile")
    signer = TokenSigner(key, issuer="doorstep-gateway", audience="doorstep", access_ttl=3600, refresh_ttl=3600)
    settings = StationsSettings(
        environment="test",
        database_url=url,
        database_schema=schema,
        log_json=False,
        directory_file=demo_directory_file(),
        worker_enabled=False,
        var_dir=tmp,
    )
    app = create_app(settings, key_set=KeySet(keys={key.kid: key.private_key.public_key()}))
    return InProcessStations(app=app, signer=signer, url=url, schema=schema)
