"""Run by tests/test_travel.py as ``pytest --at=2030-01-02T03:04:05+08:00 tests/travel/check_travel.py``."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys

from doorstep_shared.clock import SHANGHAI, local_today, utcnow

TARGET = dt.datetime(2030, 1, 2, 3, 4, 5, tzinfo=SHANGHAI)
CHILD = "import datetime as dt, time; print(dt.datetime.now(dt.UTC).isoformat()); print(time.time())"


def test_the_test_process_and_its_children_are_at_the_instant() -> None:
    assert abs((utcnow() - TARGET).total_seconds()) < 60
    assert local_today() == dt.date(2030, 1, 2)
    out = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, check=True).stdout.split()  # noqa: S603
    child_now, child_time = dt.datetime.fromisoformat(out[0]), float(out[1])
    assert abs((child_now - TARGET).total_seconds()) < 60
    assert abs(child_time - TARGET.timestamp()) < 60
