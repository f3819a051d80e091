"""Run by tests/test_travel.py as ``pytest --at=2030-12-31T20:00:00+08:00
--each-test-at=2030-12-31T23:59:59.500+08:00 tests/travel/check_each.py``."""

from __future__ import annotations

import datetime as dt
import time

import pytest

from doorstep_shared.clock import SHANGHAI, local_today, utcnow

START = dt.datetime(2030, 12, 31, 23, 59, 59, 500_000, tzinfo=SHANGHAI)


@pytest.fixture
def started() -> dt.datetime:
    return utcnow()


def test_a_test_starts_at_the_instant_and_crosses_midnight(started: dt.datetime) -> None:
    assert dt.timedelta(0) <= started - START < dt.timedelta(seconds=0.5)  # from its setup on
    assert local_today() == dt.date(2030, 12, 31)
    time.sleep(0.6)
    assert local_today() == dt.date(2031, 1, 1)


def test_the_next_test_starts_there_again(started: dt.datetime) -> None:
    assert dt.timedelta(0) <= started - START < dt.timedelta(seconds=0.5)
    assert local_today() == dt.date(2030, 12, 31)
