"""Fuzzing the stations API (in-process, demo data, admin and worker of 朝阳社区)."""

from __future__ import annotations

import pytest

from doorstep_stations.config import StationsSettings
from doorstep_stations.main import create_app

from ..support import Tokens
from . import harness
from .conftest import FuzzApps

DOC = harness.openapi_of(create_app, StationsSettings)
SCHEMA = harness.load(DOC)
# Operations that still fail a check; each entry names the finding. The owner fixes, then deletes it.
KNOWN_FAILURES: dict[str, str] = {}


@pytest.mark.parametrize("op", harness.params(harness.operations(DOC), KNOWN_FAILURES))
def test_stations_operation_survives_fuzzing(op: harness.Operation, fuzz_apps: FuzzApps, tokens: Tokens) -> None:
    harness.fuzz(SCHEMA, op, app=fuzz_apps.stations, app_name="stations", headers_of=harness.identities(tokens))
