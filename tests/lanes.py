"""``make test``: the whole suite, in two lanes at once when PostgreSQL is configured.

Without ``DOORSTEP_TEST_DATABASE_URL`` (or ``DOORSTEP_TEST_REQUIRE_POSTGRES``) this is plain pytest
on SQLite. With it, the storage tests run on both databases, and running the two halves in one
process leaves a core idle: one lane runs every test on PostgreSQL, the other every other test
(SQLite, and the tests that need no database), each in its own pytest process with its own range
of ports, and each lane's output is printed whole when it ends (also kept in
``var/test-lane-<lane>.log`` while it runs). Extra arguments go to both lanes' pytest.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from .support import BACKENDS

LANES = {"sqlite": "20000-25999", "postgresql": "26000-31999"}  # lane → its range of ports
NO_TESTS = 5  # pytest's exit code when it collected nothing


def main(argv: list[str]) -> int:
    pytest = [sys.executable, "-m", "pytest", *argv]
    if "postgresql" not in BACKENDS:
        return subprocess.call(pytest)  # noqa: S603
    logs = Path(__file__).resolve().parent.parent / "var"
    logs.mkdir(exist_ok=True)
    started = time.monotonic()
    running = {}
    for lane, ports in LANES.items():
        env = {**os.environ, "DOORSTEP_TEST_LANE": lane, "DOORSTEP_TEST_PORTS": ports}
        with (logs / f"test-lane-{lane}.log").open("wb") as log:  # the child keeps its own copy
            running[lane] = subprocess.Popen(pytest, env=env, stdout=log, stderr=subprocess.STDOUT)  # noqa: S603
    codes = {lane: proc.wait() for lane, proc in running.items()}
    for lane, code in codes.items():
        output = (logs / f"test-lane-{lane}.log").read_text(encoding="utf-8", errors="replace")
        print(f"\n=== lane {lane}\n{output}=== lane {lane}: exit {code}", flush=True)
    elapsed = time.monotonic() - started
    if all(code == NO_TESTS for code in codes.values()):
        return NO_TESTS
    failed = [lane for lane, code in codes.items() if code not in (0, NO_TESTS)]
    verdict = f"failed in lane {', '.join(failed)}" if failed else "passed"
    print(f"\nthe suite {verdict} ({len(LANES)} lanes, {elapsed:.0f} s)", file=sys.stderr if failed else sys.stdout)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
