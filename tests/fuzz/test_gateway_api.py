"""Fuzzing the gateway's own operations (tokens, directory, clients, audit) in-process.

The services' operations as the gateway forwards them are fuzzed through the merged document
against the real system in tests/e2e/test_faults.py.
"""

from __future__ import annotations

from typing import Any

import pytest

from doorstep_gateway.config import GatewaySettings
from doorstep_gateway.main import create_app
from doorstep_shared.auth.tokens import SigningKey

from ..support import Tokens
from . import harness
from .conftest import FuzzApps

# The gateway serves the merged document at /openapi.json; its own part is app.openapi().
DOC = harness.openapi_of(create_app, GatewaySettings, signing_key=SigningKey.generate("fuzz-doc"))
SCHEMA = harness.load(DOC)
# Findings in code this suite may not change: the gateway owner fixes them, then deletes the entry.
KNOWN_FAILURES: dict[str, str] = {}


def gateway_identities(tokens: Tokens) -> dict[str, Any]:
    """Staff accounts, machine clients and the audit log are county business, each a separate
    duty (三员分立): fuzz as the county admin, the security officer and the auditor as well."""
    return {
        **harness.identities(tokens),
        "county": lambda: tokens.headers("county_admin", community=None, subject="county.admin"),
        "security": lambda: tokens.headers("security_officer", community=None, subject="county.security"),
        "auditor": lambda: tokens.headers("auditor", community=None, subject="county.auditor"),
    }


@pytest.mark.parametrize("op", harness.params(harness.operations(DOC), KNOWN_FAILURES))
def test_gateway_operation_survives_fuzzing(op: harness.Operation, fuzz_apps: FuzzApps, tokens: Tokens) -> None:
    harness.fuzz(SCHEMA, op, app=fuzz_apps.gateway, app_name="gateway", headers_of=gateway_identities(tokens))
