"""Run the date-sensitive tests (marker ``dates``) at every instant of the date matrix, on SQLite.

``python -m tests.travel.matrix`` (``make test-dates``; ``.ci/run`` calls it after the whole suite).
Each instant is a separate pytest process started with ``--at``: the test process and every server
it starts live at that instant, with the clock ticking on from there. One entry also starts every
test again at a moment before midnight (``--each-test-at``), so that every test crosses it. Extra
arguments go to pytest.
Instants run in parallel lanes (one per core) and each one's output is printed when it ends.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from typing import NamedTuple


class Instant(NamedTuple):
    at: str  # the process's --at
    why: str
    stories: bool  # with the end-to-end stories
    each_test_at: str | None = None  # where every test starts again (--each-test-at)


# Local times (Asia/Shanghai). Together they cover every weekday, local midnight ± 10 minutes
# (16:00 UTC), the days before and during Spring Festival and National Day, a 调休 working
# Saturday, the turn of a year (every test crossing it), 29 February, and a year the holiday
# calendar does not know.
MATRIX: list[Instant] = [
    Instant("2026-02-14T09:00:00+08:00", "Sat: a 调休 working Saturday, the day before Spring Festival 2026", False),
    Instant("2026-02-17T23:50:00+08:00", "Tue: during Spring Festival, 10 minutes before local midnight", False),
    Instant("2026-09-30T16:30:00+08:00", "Wed: the afternoon before National Day", False),
    Instant("2026-10-04T00:10:00+08:00", "Sun: during National Day, 10 minutes after local midnight", False),
    Instant("2026-12-03T20:00:00+08:00", "Thu: an evening (the day the Wednesday slots were found in the past)", True),
    Instant(
        "2026-12-31T22:00:00+08:00",
        "Thu→Fri: every test starts 0.7 s before the year turns",
        False,
        each_test_at="2026-12-31T23:59:59.300+08:00",
    ),
    Instant(
        "2027-01-04T00:05:00+08:00", "Mon: a Monday just after midnight, in a year past the holiday calendar", False
    ),
    Instant("2027-02-05T23:50:00+08:00", "Fri: the eve of Spring Festival 2027, 10 minutes before midnight", True),
    Instant("2028-02-29T12:00:00+08:00", "Tue: 29 February", True),
]
# The stories start four servers and load the demo (~40 s): three instants carry them, the rest
# of the date-sensitive tests run at every instant.
#
# ``each_test_at``: every test starts again there (``--each-test-at``). The year's
# last midnight was a single instant once (23:59:00), which the clock crossed in whichever test
# happened to run a minute in; a test that took "today" on one side and counted on the other
# failed in one run of many. Now every test crosses it 0.7 s in: inside the body of a test whose
# setup is quick, just after the setup of one that builds apps (a sweep of offsets from 0.3 to
# 3 s passed on 2026-12-05).


def _run(entry: Instant, argv: list[str], env: dict[str, str]) -> tuple[int, str]:
    instant, why = entry.at, entry.why
    cmd = [sys.executable, "-m", "pytest", "-q", "-m", "dates", "-p", "no:cacheprovider", f"--at={instant}"]
    if not entry.stories:
        cmd.append("--ignore=tests/e2e")
    if entry.each_test_at:
        cmd.append(f"--each-test-at={entry.each_test_at}")
    cmd.extend(argv)
    started = time.monotonic()
    done = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)  # noqa: S603
    # Output is printed whole when an instant ends, so two lanes never interleave their lines.
    report = f"\n=== {instant}  {why}\n{done.stdout}=== {instant}: exit {done.returncode} in {time.monotonic() - started:.0f} s"
    return done.returncode, report


def main(argv: list[str]) -> int:
    env = {
        k: v for k, v in os.environ.items() if k not in ("DOORSTEP_TEST_DATABASE_URL", "DOORSTEP_TEST_REQUIRE_POSTGRES")
    }
    # The instants are independent processes on their own temporary SQLite files, and each is
    # CPU-bound: one lane per core (DOORSTEP_DATES_JOBS overrides). Two runs with the end-to-end
    # stories never overlap: each starts four servers, and two sets at once on a small machine
    # turn the stories' timeouts into load tests.
    jobs = int(os.environ.get("DOORSTEP_DATES_JOBS", "0")) or max(1, min(len(MATRIX), os.cpu_count() or 1))
    pending = list(MATRIX)
    results: list[tuple[str, int]] = []
    state = threading.Condition()
    stories_running = False

    def take() -> Instant | None:
        nonlocal stories_running
        with state:
            while pending:
                # A story run whenever none is running (they are the long ones), else the rest.
                for entry in sorted(pending, key=lambda e: not e.stories):
                    if not (entry.stories and stories_running):
                        pending.remove(entry)
                        stories_running = stories_running or entry.stories
                        return entry
                state.wait()  # only story runs are left and one is running
            return None

    def lane(index: int) -> None:
        nonlocal stories_running
        # Each lane's servers take ports from its own range (tests/support.py free_port).
        span = 12000 // jobs
        lane_env = {**env, "DOORSTEP_TEST_PORTS": f"{20000 + index * span}-{20000 + (index + 1) * span - 1}"}
        while (entry := take()) is not None:
            code, report = _run(entry, argv, lane_env)
            print(report, flush=True)
            with state:
                results.append((entry.at, code))
                if entry.stories:
                    stories_running = False
                state.notify_all()

    started = time.monotonic()
    lanes = [threading.Thread(target=lane, args=(index,)) for index in range(jobs)]
    for thread in lanes:
        thread.start()
    for thread in lanes:
        thread.join()
    failed = [instant for instant, code in results if code != 0]
    elapsed = time.monotonic() - started
    if failed:
        print(f"\nthe date-sensitive tests failed at: {', '.join(failed)} ({elapsed:.0f} s)", file=sys.stderr)
        return 1
    print(f"\nthe date-sensitive tests passed at all {len(MATRIX)} instants ({jobs} lanes, {elapsed:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
