"""Fuzzing the proxy API (in-process, demo data, admin and worker of 朝阳社区)."""

from __future__ import annotations

import pytest

from doorstep_proxy.config import ProxySettings
from doorstep_proxy.main import create_app

from ..support import Tokens
from . import harness
from .conftest import FuzzApps

DOC = harness.openapi_of(create_app, ProxySettings)
SCHEMA = harness.load(DOC)
# Findings in code this suite may not change: the proxy owners fix them, then delete the entry
# (strict xfail: a fixed operation fails here until its entry goes).
KNOWN_FAILURES: dict[str, str] = {}


@pytest.mark.parametrize("op", harness.params(harness.operations(DOC), KNOWN_FAILURES))
def test_proxy_operation_survives_fuzzing(op: harness.Operation, fuzz_apps: FuzzApps, tokens: Tokens) -> None:
    harness.fuzz(SCHEMA, op, app=fuzz_apps.proxy, app_name="proxy", headers_of=harness.identities(tokens))
