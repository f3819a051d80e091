"""The import contracts (root ``pyproject.toml``, ``[tool.importlinter]``) hold, and can fail.

``make lint`` runs them too (``lint-imports``); running them here means ``make test`` alone is
enough to catch a shortcut through another app, a sibling's repository or a layer upwards.
"""

from __future__ import annotations

from pathlib import Path

import grimp
import pytest
from importlinter import cli

from doorstep_tools.contracts import ForeignImport, foreign_repository_imports

ROOT = Path(__file__).resolve().parent.parent


def test_every_import_contract_is_kept(capsys: pytest.CaptureFixture[str]) -> None:
    exit_code = cli.lint_imports(config_filename=str(ROOT / "pyproject.toml"), no_cache=True, no_logo=True)
    report = capsys.readouterr().out
    assert exit_code == cli.EXIT_STATUS_SUCCESS, report
    assert "0 broken" in report
    assert "sub-domains call each other's services" in report  # the custom contract ran too


def _graph(*imports: tuple[str, str]) -> grimp.ImportGraph:
    graph = grimp.ImportGraph()
    graph.add_module("app")
    for importer, imported in imports:
        graph.add_import(importer=importer, imported=imported, line_number=3, line_contents="import x")
    return graph


def test_a_sub_domain_may_import_its_own_repository() -> None:
    graph = _graph(
        ("app.cases.service", "app.cases.repository"),
        ("app.cases.sync", "app.cases.repository"),
        ("app.cases.service", "app.ledger.service"),
        ("app.ledger.service", "app.ledger.repository"),
    )
    assert foreign_repository_imports(graph, "app") == []


def test_a_sub_domain_importing_a_siblings_repository_is_found() -> None:
    graph = _graph(
        ("app.cases.service", "app.ledger.repository"),
        ("app.main", "app.ledger.repository"),
        ("app.ledger.service", "app.ledger.repository"),
    )
    assert foreign_repository_imports(graph, "app") == [
        ForeignImport(importer="app.cases.service", repository="app.ledger.repository", line=3),
        ForeignImport(importer="app.main", repository="app.ledger.repository", line=3),
    ]
