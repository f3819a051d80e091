"""bench/bench_discovery.py still runs end to end (it once broke silently when the catalogue
client grew a directory copy) and prints the goals it keeps, on a register small enough for CI."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_discovery_bench_runs_and_prints_its_goals(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "DOORSTEP_BENCH_DATABASE_URL"}  # SQLite only
    env["TMPDIR"] = str(tmp_path)
    done = subprocess.run(  # noqa: S603 - our own script, fixed arguments
        [sys.executable, str(ROOT / "bench" / "bench_discovery.py"), "--residents", "400"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    goals = [line for line in done.stdout.splitlines() if line.startswith("goal SQLite:")]
    assert len(goals) == 2, done.stdout[-2000:]
    assert "daily re-run ≥ 20× the naive re-run" in goals[0]
    assert "| SQLite |" in done.stdout  # the table row of the run
