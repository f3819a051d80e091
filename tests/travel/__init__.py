"""Time travel for the whole test process and the servers it starts (``pytest --at=…``), and for
each test on its own (``pytest --each-test-at=…``)."""

from __future__ import annotations

import datetime as dt
import os
import time
from pathlib import Path

import pytest
import time_machine

OFFSET_ENV = "DOORSTEP_TEST_TIME_OFFSET"
HERE = Path(__file__).resolve().parent


def parse_instant(text: str, option: str = "--at") -> dt.datetime:
    """An ISO 8601 instant with its offset (``2027-02-05T23:50:00+08:00``); a bare time is refused."""
    instant = dt.datetime.fromisoformat(text)
    if instant.tzinfo is None:
        raise ValueError(f"{option} needs an offset or Z, e.g. {text}+08:00")
    return instant


def children_follow_faketime() -> None:
    """Under libfaketime with an absolute start (``faketime '@2027-10-03 16:05:00' make test``),
    every new process starts its clock at that instant again: a server the tests start minutes
    later would live minutes in the past and refuse the tests' tokens as not yet valid. With
    ``FAKETIME_DONT_RESET`` children carry on from the parent's faked time instead."""
    spec = os.environ.get("FAKETIME", "")
    if spec and not spec.startswith(("+", "-")):
        os.environ.setdefault("FAKETIME_DONT_RESET", "1")


def travel_everything(instant: dt.datetime) -> time_machine.travel:
    """Start ticking from ``instant`` here, and make every Python child process do the same."""
    offset = instant.timestamp() - time.time()
    traveller = time_machine.travel(instant, tick=True)
    traveller.start()
    os.environ[OFFSET_ENV] = repr(offset)
    paths = [str(HERE), *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
    os.environ["PYTHONPATH"] = os.pathsep.join(paths)
    return traveller


class EachTestAt:
    """A plugin: every test (setup, call and teardown) starts at ``instant`` again, clock ticking.

    With an instant a moment before local midnight every test crosses it, a little way in. A test
    that makes data on one side and asks for "today" on the other is then caught whenever that
    gap holds the crossing, in every run, rather than only in the run whose one crossing happens
    to land in that test. Only this process travels: the servers a test starts in a child process
    follow ``--at``, so the end-to-end stories are left out of such a run.
    """

    def __init__(self, instant: dt.datetime) -> None:
        self.instant = instant
        self.traveller: time_machine.travel | None = None

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> object:
        self.traveller = time_machine.travel(self.instant, tick=True)
        self.traveller.start()
        return (yield)

    @pytest.hookimpl(wrapper=True, trylast=True)
    def pytest_runtest_teardown(self, item: pytest.Item, nextitem: pytest.Item | None) -> object:
        try:
            return (yield)
        finally:
            if self.traveller is not None:
                self.traveller.stop()
                self.traveller = None
