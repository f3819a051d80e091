"""The import contract import-linter has no built-in type for: sub-domains keep their repositories.

Inside an app, a sub-domain (``doorstep_proxy.cases``, ``doorstep_stations.bookings``…) that needs
another one's data calls that sub-domain's service, which holds its rules (tenancy, masking, the
change counter); only the sub-domain itself imports its ``repository`` module. The built-in
``forbidden`` type would need one contract per sub-domain listing every sibling, and a new
sub-domain would go unguarded until someone added its own; this type finds the sub-domains.

Loaded by ``lint-imports`` only (``contract_types`` in the root ``pyproject.toml``), so
import-linter stays a development dependency.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

import grimp
from importlinter import Contract, ContractCheck, fields, output
from importlinter.domain import helpers
from importlinter.domain.imports import ModuleExpression

REPOSITORY = "repository"


@dataclass(frozen=True)
class ForeignImport:
    """``importer`` (line ``line``) imports ``repository``, which belongs to another sub-domain."""

    importer: str
    repository: str
    line: int


def sub_domain_of(module: str, container: str) -> str | None:
    """The sub-domain package ``module`` sits in, or None for the container's top-level modules."""
    tail = module.removeprefix(container + ".").split(".")
    if module == container or len(tail) < 2:
        return None
    return f"{container}.{tail[0]}"


def foreign_repository_imports(graph: grimp.ImportGraph, container: str) -> list[ForeignImport]:
    """Every direct import of a sub-domain's repository from outside that sub-domain."""
    found: list[ForeignImport] = []
    for repository in sorted(graph.find_descendants(container)):
        if repository.rsplit(".", 1)[-1] != REPOSITORY:
            continue
        owner = sub_domain_of(repository, container)
        if owner is None:
            continue
        for importer in sorted(graph.find_modules_that_directly_import(repository)):
            if importer == owner or importer.startswith(owner + "."):
                continue
            details = graph.get_import_details(importer=importer, imported=repository)
            line = min((d["line_number"] for d in details), default=0)
            found.append(ForeignImport(importer=importer, repository=repository, line=line))
    return found


class SubDomainRepositoriesContract(Contract):
    """Sub-domains of each container import only their own ``repository`` module.

    Configuration options:
        - containers: the apps whose sub-packages are sub-domains.
    """

    type_name = "sub_domain_repositories"

    containers = fields.ListField(subfield=fields.ModuleExpressionField())

    def check(self, graph: grimp.ImportGraph, verbose: bool) -> ContractCheck:
        expressions = cast(list[ModuleExpression], self.containers)
        containers = sorted(m.name for m in helpers.module_expressions_to_modules(graph, expressions))
        found = [hit for container in containers for hit in foreign_repository_imports(graph, container)]
        return ContractCheck(kept=not found, metadata={"found": found})

    def render_broken_contract(self, check: ContractCheck) -> None:
        for hit in cast(list[ForeignImport], check.metadata["found"]):
            output.print_error(f"{hit.importer} (l.{hit.line}) imports {hit.repository}: call its service instead")
            output.new_line()
