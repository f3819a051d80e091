"""configure_logging: a service's log holds its own lines, not a line per outgoing HTTP call (the
directory and roster polls call the gateway every two seconds) nor uvicorn's access lines."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from doorstep_shared.http.observability import configure_logging

QUIET = ("uvicorn.access", "httpx", "httpcore")


@pytest.fixture
def restored() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    levels = {name: logging.getLogger(name).level for name in QUIET}
    try:
        yield
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
        for name, old in levels.items():
            logging.getLogger(name).setLevel(old)


def test_http_client_and_access_lines_are_kept_to_warnings(restored: None) -> None:
    configure_logging("proxy", "INFO")
    for name in QUIET:
        logger = logging.getLogger(name)
        assert not logger.isEnabledFor(logging.INFO) and logger.isEnabledFor(logging.WARNING), name
    assert logging.getLogger("doorstep_proxy").isEnabledFor(logging.INFO)
