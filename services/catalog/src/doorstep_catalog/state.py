"""The catalog app's state, typed: what ``app.state`` carries beyond every app's
(:class:`doorstep_shared.app.AppState`). ``create_app`` hands it to ``create_service_app``;
handlers reach it through :func:`state_of` (``deps.py``).
"""

from __future__ import annotations

from fastapi import FastAPI
from starlette.requests import HTTPConnection

from doorstep_shared.app import AppState
from doorstep_shared.directory import Directory
from doorstep_shared.directory_copy import DirectoryCopy

from .config import CatalogSettings
from .items.index import CatalogIndex
from .search.service import SearchLog


class CatalogState(AppState):
    settings: CatalogSettings
    # Set by create_app: this replica's in-memory search index and compiled rules.
    catalog_index: CatalogIndex
    # Set by create_app: search events, written in group commits.
    search_log: SearchLog
    # Set by the lifespan: the org directory, followed from the gateway.
    directory: DirectoryCopy

    def tenancy_directory(self) -> Directory | None:
        """County roles see the communities of their county in the copy as it is now."""
        copy: DirectoryCopy | None = getattr(self, "directory", None)  # set by the lifespan
        return copy.current if copy is not None else None


def state_of(holder: HTTPConnection | FastAPI) -> CatalogState:
    return CatalogState.of(holder)
