"""``pytest --at=…`` moves the test process and the processes it starts to one instant;
``pytest --each-test-at=…`` starts every test at one instant again."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from .travel import OFFSET_ENV, parse_instant

ROOT = Path(__file__).resolve().parent.parent


def _pytest(*args: str) -> str:
    env = {k: v for k, v in os.environ.items() if k != OFFSET_ENV}
    run = subprocess.run(  # noqa: S603
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    return run.stdout


def test_at_travels_the_test_process_and_its_children() -> None:
    assert "1 passed" in _pytest("--at=2030-01-02T03:04:05+08:00", "tests/travel/check_travel.py")


def test_each_test_at_starts_every_test_there_again() -> None:
    out = _pytest(
        "--at=2030-12-31T20:00:00+08:00",
        "--each-test-at=2030-12-31T23:59:59.500+08:00",
        "tests/travel/check_each.py",
    )
    assert "2 passed" in out


def test_an_instant_without_an_offset_is_refused() -> None:
    with pytest.raises(ValueError, match="offset"):
        parse_instant("2027-02-05T23:50:00")
    assert parse_instant("2027-02-05T15:50:00Z").utcoffset() is not None
