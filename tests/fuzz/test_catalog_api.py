"""Fuzzing the catalog API (in-process, demo data, admin and worker of 朝阳社区)."""

from __future__ import annotations

import pytest

from doorstep_catalog.config import CatalogSettings
from doorstep_catalog.main import create_app

from ..support import Tokens
from . import harness
from .conftest import FuzzApps

DOC = harness.openapi_of(create_app, CatalogSettings)
SCHEMA = harness.load(DOC)
# Findings in code this suite may not change: the catalog owners fix them, then delete the entry
# (strict xfail: a fixed operation fails here until its entry goes).
KNOWN_FAILURES: dict[str, str] = {}


@pytest.mark.parametrize("op", harness.params(harness.operations(DOC), KNOWN_FAILURES))
def test_catalog_operation_survives_fuzzing(op: harness.Operation, fuzz_apps: FuzzApps, tokens: Tokens) -> None:
    harness.fuzz(SCHEMA, op, app=fuzz_apps.catalog, app_name="catalog", headers_of=harness.identities(tokens))
