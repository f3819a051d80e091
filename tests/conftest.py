"""Fixtures for every test: the database backends, the test signing key, tokens."""

from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path

import pytest

from doorstep_shared.tokens import SigningKey

from .support import BACKENDS, Tokens

_STARTED = pytest.StashKey[float]()


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
        "finished_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "seconds": round(time.monotonic() - started, 1),
        "backends": BACKENDS,
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
