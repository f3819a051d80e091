"""Fixtures for every test: the database backends, the test signing key, tokens."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from doorstep_shared.auth.tokens import SigningKey
from doorstep_shared.clock import utcnow

from .support import BACKENDS, Tokens
from .travel import EachTestAt, children_follow_faketime, parse_instant, travel_everything

_STARTED = pytest.StashKey[float]()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--at",
        metavar="INSTANT",
        default=None,
        help="run the whole test process, and every server it starts, from this instant on "
        "(ISO 8601 with offset, e.g. 2027-02-05T23:50:00+08:00); the clock keeps ticking",
    )
    parser.addoption(
        "--each-test-at",
        metavar="INSTANT",
        default=None,
        help="start every test (its setup, call and teardown) at this instant again, the clock "
        "ticking; with a moment before midnight every test crosses it (servers in child processes "
        "follow --at only)",
    )


def pytest_configure(config: pytest.Config) -> None:
    children_follow_faketime()
    at = config.getoption("--at")
    if at:
        try:
            instant = parse_instant(at)
        except ValueError as exc:
            raise pytest.UsageError(str(exc)) from exc
        travel_everything(instant)
    each = config.getoption("--each-test-at")
    if each:
        try:
            config.pluginmanager.register(EachTestAt(parse_instant(each, "--each-test-at")), "doorstep-each-test-at")
        except ValueError as exc:
            raise pytest.UsageError(str(exc)) from exc


def pytest_report_header(config: pytest.Config) -> str | None:
    at, each = config.getoption("--at"), config.getoption("--each-test-at")
    lines = [f"travelled to {at} (now {utcnow().isoformat(timespec='seconds')})"] if at else []
    lines += [f"every test starts at {each}"] if each else []
    return "\n".join(lines) or None


# In a parallel run (tests/lanes.py) each process takes one lane: "postgresql" runs every test on
# PostgreSQL, "sqlite" every other test (on SQLite, and those that need no database).
# The apps freeze their long-lived objects out of the garbage collector's reach a minute after
# start (doorstep_shared.app._gc_frozen_after): once per process, which in a test process that
# starts hundreds of apps would only keep their garbage. tests/shared/test_gc_freeze.py tests it.
# A pool keeps what it opened (doorstep_shared.db.engine: 16 by default, for a deployment's peak);
# the PostgreSQL lane's apps share one server of 100 connections, and the apps a session keeps
# alive would keep a burst's connections open: 8 each here (+2 for a moment), fixtures that need
# more or fewer say so.
for _prefix in ("DOORSTEP_", "DOORSTEP_GATEWAY_", "DOORSTEP_CATALOG_", "DOORSTEP_PROXY_", "DOORSTEP_STATIONS_"):
    os.environ.setdefault(f"{_prefix}GC_FREEZE_AFTER_S", "0")
    os.environ.setdefault(f"{_prefix}DATABASE_POOL_SIZE", "8")

LANE = os.environ.get("DOORSTEP_TEST_LANE", "")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not LANE:
        return

    def on_postgresql(item: pytest.Item) -> bool:
        callspec = getattr(item, "callspec", None)
        return callspec is not None and callspec.params.get("db_backend") == "postgresql"

    keep = [item for item in items if on_postgresql(item) == (LANE == "postgresql")]
    if len(keep) < len(items):
        config.hook.pytest_deselected(items=[item for item in items if item not in keep])
        items[:] = keep


@pytest.fixture(scope="session", params=BACKENDS)
def db_backend(request: pytest.FixtureRequest) -> str:
    """Parametrises every storage test over SQLite and (when configured) PostgreSQL."""
    return str(request.param)


@pytest.fixture(scope="session")
def tokens() -> Tokens:
    return Tokens(SigningKey.generate("test-key-1"))


# --- the suite's own wall time, kept so that growth is visible (bench/run.py reports it) ---------

_RUNS_LOG = Path(__file__).resolve().parent.parent / "var" / "test-runs.jsonl"


def pytest_sessionstart(session: pytest.Session) -> None:
    session.config.stash[_STARTED] = time.monotonic()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Append one line per whole-suite run (no paths or -k given) to var/test-runs.jsonl."""
    started = session.config.stash.get(_STARTED, None)
    whole = session.config.args_source == pytest.Config.ArgsSource.TESTPATHS
    if started is None or not whole or session.config.getoption("keyword") or session.config.getoption("markexpr"):
        return
    record = {
        "finished_at": utcnow().isoformat(timespec="seconds"),
        "seconds": round(time.monotonic() - started, 1),
        "backends": [LANE] if LANE else BACKENDS,
        "tests": session.testscollected,
        "failed": session.testsfailed,
        "exit": int(exitstatus),
    }
    try:
        _RUNS_LOG.parent.mkdir(parents=True, exist_ok=True)
        with _RUNS_LOG.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(record) + "\n")
    except OSError:
        pass  # a read-only checkout still runs its tests
