"""Run the date-sensitive tests (marker ``dates``) at every instant of the date matrix, on SQLite.

``python -m tests.travel.matrix`` (``make test-dates``; ``.ci/run`` calls it after the whole suite).
Each instant is a separate pytest process started with ``--at``: the test process and every server
it starts live at that instant, with the clock ticking on from there. Extra arguments go to pytest.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

# Local times (Asia/Shanghai). Together they cover every weekday, local midnight ± 10 minutes
# (16:00 UTC), the days before and during Spring Festival and National Day, a 调休 working
# Saturday, the last minute of a year, 29 February, and a year the holiday calendar does not know.
MATRIX: list[tuple[str, str, bool]] = [  # (instant, why, with the end-to-end stories)
    ("2026-02-14T09:00:00+08:00", "Sat: a 调休 working Saturday, the day before Spring Festival 2026", False),
    ("2026-02-17T23:50:00+08:00", "Tue: during Spring Festival, 10 minutes before local midnight", False),
    ("2026-09-30T16:30:00+08:00", "Wed: the afternoon before National Day", False),
    ("2026-10-04T00:10:00+08:00", "Sun: during National Day, 10 minutes after local midnight", False),
    ("2026-12-03T20:00:00+08:00", "Thu: an evening (the day the Wednesday slots were found in the past)", True),
    ("2026-12-31T23:59:00+08:00", "Thu: the last minute of the year", False),
    ("2027-01-04T00:05:00+08:00", "Mon: a Monday just after midnight, in a year past the holiday calendar", False),
    ("2027-02-05T23:50:00+08:00", "Fri: the eve of Spring Festival 2027, 10 minutes before midnight", True),
    ("2028-02-29T12:00:00+08:00", "Tue: 29 February", True),
]
# The stories start four servers and load the demo (~40 s): three instants carry them, the rest
# of the date-sensitive tests run at every instant.


def main(argv: list[str]) -> int:
    env = {
        k: v for k, v in os.environ.items() if k not in ("DOORSTEP_TEST_DATABASE_URL", "DOORSTEP_TEST_REQUIRE_POSTGRES")
    }
    failed: list[str] = []
    for instant, why, stories in MATRIX:
        print(f"\n=== {instant}  {why}", flush=True)
        started = time.monotonic()
        cmd = [sys.executable, "-m", "pytest", "-q", "-m", "dates", "-p", "no:cacheprovider", f"--at={instant}"]
        if not stories:
            cmd.append("--ignore=tests/e2e")
        cmd.extend(argv)
        code = subprocess.call(cmd, env=env)  # noqa: S603 (our own interpreter and pytest)
        print(f"=== {instant}: exit {code} in {time.monotonic() - started:.0f} s", flush=True)
        if code != 0:
            failed.append(instant)
    if failed:
        print(f"\nthe date-sensitive tests failed at: {', '.join(failed)}", file=sys.stderr)
        return 1
    print(f"\nthe date-sensitive tests passed at all {len(MATRIX)} instants")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
