"""The real system: four uvicorn processes on free ports, talking real HTTP to each other."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from doorstep_shared.directory import demo_directory_file

from ..support import PG_URL, free_port

APPS = {
    "gateway": "doorstep_gateway",
    "catalog": "doorstep_catalog",
    "proxy": "doorstep_proxy",
    "stations": "doorstep_stations",
}
PASSWORD = "e2e-demo-password"


@dataclass
class System:
    env: dict[str, str]
    ports: dict[str, int]
    log_dir: Path
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def url(self, app: str = "gateway") -> str:
        return f"http://127.0.0.1:{self.ports[app]}"

    def start(self, app: str, *, wait: bool = True) -> None:
        cmd = [
            sys.executable,
            "-m",
            "uvicorn",
            f"{APPS[app]}.main:create_app",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.ports[app]),
        ]
        with open(self.log_dir / f"{app}.log", "ab") as log:  # the child keeps its own copy
            self.procs[app] = subprocess.Popen(cmd, env=self.env, stdout=log, stderr=subprocess.STDOUT)  # noqa: S603
        if wait:
            wait_healthy(self.url(app), self.procs[app])

    def stop(self, app: str, sig: int = signal.SIGTERM) -> None:
        proc = self.procs.pop(app)
        proc.send_signal(sig)
        proc.wait(timeout=20)

    def logs(self) -> str:
        return "\n".join(p.read_text(errors="replace") for p in sorted(self.log_dir.glob("*.log")))


def wait_healthy(url: str, proc: subprocess.Popen[bytes], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{url} exited with {proc.returncode} while starting")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not become healthy")


def system_env(tmp: Path, ports: dict[str, int], backend: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOORSTEP_")}
    # One random suffix per run, shared by its apps: the temp dir's name is the same in every run
    # while the PII keys are not, so runs of several checkouts must never share a schema.
    run = uuid.uuid4().hex[:8]
    env["DOORSTEP_DEMO_PASSWORD"] = PASSWORD
    gateway = f"http://127.0.0.1:{ports['gateway']}"
    for app in APPS:
        prefix = f"DOORSTEP_{app.upper()}_"
        env[prefix + "ENVIRONMENT"] = "test"
        env[prefix + "VAR_DIR"] = str(tmp)
        env[prefix + "HOST"] = "127.0.0.1"
        env[prefix + "PORT"] = str(ports[app])
        env[prefix + "JWKS_URL"] = f"{gateway}/.well-known/jwks.json"
        if backend == "postgresql":
            env[prefix + "DATABASE_URL"] = PG_URL
            env[prefix + "DATABASE_SCHEMA"] = f"e2e_{app}_{run}"
            # The system lives for the whole session beside the in-process apps of the other
            # tests, all on one server of 100 connections: at the default pool (10 + 10 overflow
            # per app) its idle connections left too few for a 100-request burst later on (CI saw
            # "too many clients" as 503s). At most 6 + 1 per app here.
            env[prefix + "DATABASE_POOL_SIZE"] = "6"
        if app != "gateway":
            env[f"DOORSTEP_GATEWAY_{app.upper()}_URL"] = f"http://127.0.0.1:{ports[app]}"
            # As make run: follow the gateway's directory export, the demo file until it answers.
            env[prefix + "DIRECTORY_URL"] = gateway
            env[prefix + "DIRECTORY_FILE"] = str(demo_directory_file())
    env["DOORSTEP_PROXY_CATALOG_URL"] = f"http://127.0.0.1:{ports['catalog']}"
    env["DOORSTEP_GATEWAY_UPSTREAM_READ_TIMEOUT"] = "5"
    env["DOORSTEP_PROXY_CATALOG_CACHE_SECONDS"] = "2"  # the outage drill sees a failed revalidation soon
    # The drills and the fuzzer send thousands of requests as two users from one address: at
    # the production limits most of them would test the rate limiter instead of the services.
    for limit in ("TOKEN", "USER", "ANONYMOUS"):
        env[f"DOORSTEP_GATEWAY_RATE_LIMIT_{limit}"] = "1000000/minute"
    env["DOORSTEP_GATEWAY_ARGON2_TIME_COST"] = "1"
    env["DOORSTEP_GATEWAY_ARGON2_MEMORY_KIB"] = "1024"
    return env


@contextlib.contextmanager
def running_system(db_backend: str, tmp: Path, **extra_env: str) -> Iterator[System]:
    """The four apps on free ports, migrated and seeded; stopped (and their schemas dropped) after."""
    ports = {app: free_port() for app in APPS}
    system = System({**system_env(tmp, ports, db_backend), **extra_env}, ports, tmp)
    try:  # from the seed on: a failed seed has already made this run's schemas
        seed = subprocess.run(
            [sys.executable, "-m", "doorstep_tools.launcher", "--seed-only"],
            env=system.env,
            capture_output=True,
            timeout=300,
        )
        assert seed.returncode == 0, seed.stderr.decode()[-3000:]
        for app in APPS:
            system.start(app, wait=False)
        for app in APPS:
            wait_healthy(system.url(app), system.procs[app])
        yield system
    finally:
        for app, proc in list(system.procs.items()):
            try:
                system.stop(app)
            except subprocess.TimeoutExpired:
                proc.kill()  # stop() has already forgotten it
        if db_backend == "postgresql":
            _drop_schemas(system.env)


@pytest.fixture(scope="session")
def system(db_backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    with running_system(db_backend, tmp_path_factory.mktemp(f"e2e-{db_backend}")) as system:
        yield system


def _drop_schemas(env: dict[str, str]) -> None:
    """Drop exactly this run's schemas (the ones named in its env), never another run's."""
    import asyncio

    from sqlalchemy import text

    from doorstep_shared.db.engine import create_engine

    async def drop() -> None:
        engine = create_engine(PG_URL, null_pool=True)
        async with engine.begin() as conn:
            for app in APPS:
                schema = env[f"DOORSTEP_{app.upper()}_DATABASE_SCHEMA"]
                await conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        await engine.dispose()

    asyncio.run(drop())


@pytest.fixture(scope="session")
def admin_token(system: System) -> str:
    return login(system, "county.admin")


def login(system: System, username: str) -> str:
    resp = httpx.post(
        f"{system.url()}/api/v1/auth/token",
        data={"grant_type": "password", "username": username, "password": PASSWORD},
        timeout=10,
    )
    assert resp.status_code == 200, resp.text
    return str(resp.json()["access_token"])


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The second-county story runs after every other test: it turns the shared system into a
    deployment of two counties, where some answers differ by design (an anonymous sheet needs
    ``?county=``; a county-wide discovery run is per community), and the other stories are
    written for the one-county demo."""
    last = [i for i in items if i.module is not None and i.module.__name__.endswith("test_second_county")]
    if last:
        items[:] = [i for i in items if i not in last] + last
