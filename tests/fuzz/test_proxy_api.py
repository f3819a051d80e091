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
_422_AS_JSON = (
    "ST105: a bad path/query parameter answers 422 application/problem+json, but the operation documents "
    "FastAPI's default 422 (application/json, HTTPValidationError): add 422 with the problem schema to responses="
)
_TIME_FORMAT = (
    "ST108: 200 body violates its schema: VisitRead.window_start/window_end are documented as "
    "format 'time' (RFC 3339 full-time, which needs an offset) but serialised as naive '09:30:00'"
)
_CATALOG_503 = (
    "ST101: 503 catalog_unavailable in the full fuzz run although the catalogue snapshot is primed "
    "(app.state.catalog.prime) and the cache ttl is a day; not reproduced when the operation runs alone: "
    "order-dependent, to investigate (and 503 is undocumented)"
)
KNOWN_FAILURES: dict[str, str] = {
    "GET /api/v1/proxy/leads/figures": _422_AS_JSON + " (e.g. ?community=H\U000255a3); also " + _CATALOG_503,
    "GET /api/v1/proxy/leads/needs-survey": _422_AS_JSON + "; also " + _CATALOG_503,
    "GET /api/v1/proxy/leads": _CATALOG_503,
    "GET /api/v1/proxy/leads/coming-due": _CATALOG_503,
    "GET /api/v1/proxy/my/day": _TIME_FORMAT,
    "GET /api/v1/proxy/my/week": _TIME_FORMAT,
}


@pytest.mark.parametrize("op", harness.params(harness.operations(DOC), KNOWN_FAILURES))
def test_proxy_operation_survives_fuzzing(op: harness.Operation, fuzz_apps: FuzzApps, tokens: Tokens) -> None:
    harness.fuzz(SCHEMA, op, app=fuzz_apps.proxy, headers_of=harness.identities(tokens))
