"""`make run`'s launcher: demo data once, four processes, one dies → all stop, non-zero exit."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx

from ..support import free_port
from .conftest import APPS

COUNTED = {"gateway": "user_account", "proxy": "resident", "stations": "station", "catalog": "item"}


def launcher_env(var: Path, ports: dict[str, int]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOORSTEP_")}
    for app in APPS:
        env[f"DOORSTEP_{app.upper()}_VAR_DIR"] = str(var)
        env[f"DOORSTEP_{app.upper()}_PORT"] = str(ports[app])
        env[f"DOORSTEP_{app.upper()}_ENVIRONMENT"] = "test"
    env["DOORSTEP_GATEWAY_ARGON2_TIME_COST"] = "1"
    env["DOORSTEP_GATEWAY_ARGON2_MEMORY_KIB"] = "1024"
    return env


def counts(var: Path) -> dict[str, int]:
    out = {}
    for app, table in COUNTED.items():
        with sqlite3.connect(var / f"{app}.db") as db:
            out[app] = db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
    return out


def test_seeding_twice_duplicates_nothing(tmp_path: Path) -> None:
    env = launcher_env(tmp_path, {app: free_port() for app in APPS})
    cmd = [sys.executable, "-m", "doorstep_tools.launcher", "--seed-only"]
    first = subprocess.run(cmd, env=env, capture_output=True, timeout=300, check=False)  # noqa: S603
    assert first.returncode == 0, first.stderr.decode()[-2000:]
    before = counts(tmp_path)
    assert all(n > 0 for n in before.values()), before
    second = subprocess.run(cmd, env=env, capture_output=True, timeout=300, check=False)  # noqa: S603
    assert second.returncode == 0, second.stderr.decode()[-2000:]
    assert counts(tmp_path) == before


def test_when_one_process_dies_the_launcher_stops_the_others_and_fails(tmp_path: Path) -> None:
    ports = {app: free_port() for app in APPS}
    env = launcher_env(tmp_path, ports)
    launcher = subprocess.Popen(
        [sys.executable, "-m", "doorstep_tools.launcher"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if all(httpx.get(f"http://127.0.0.1:{ports[a]}/healthz", timeout=1).status_code == 200 for a in APPS):
                    break
            except httpx.HTTPError:
                time.sleep(0.3)
        else:
            raise AssertionError("the four apps did not come up")
        pattern = f"doorstep_catalog.main:create_app.*--port {ports['catalog']}"
        found = subprocess.check_output(["pgrep", "-f", pattern])  # noqa: S603, S607 (fixed command)
        catalog_pid = int(found.split()[0])
        os.kill(catalog_pid, signal.SIGKILL)
        code = launcher.wait(timeout=30)
        output = launcher.stdout.read().decode() if launcher.stdout else ""
        assert code != 0
        assert "catalog exited" in output
        # Four apps, one terminal: every app's own lines carry its name.
        for app in APPS:
            assert any(line.startswith(f"{app:<8} | ") for line in output.splitlines()), (app, output[-2000:])
        for app in APPS:
            try:
                httpx.get(f"http://127.0.0.1:{ports[app]}/healthz", timeout=1)
                raise AssertionError(f"{app} is still serving")
            except httpx.ConnectError:
                pass
    finally:
        if launcher.poll() is None:
            launcher.kill()
            launcher.wait()
        if launcher.stdout:
            launcher.stdout.close()
