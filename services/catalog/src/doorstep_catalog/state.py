"""The catalog app's state, typed: every attribute ``app.state`` carries, in one place.

``create_app`` installs a :class:`CatalogState` as ``app.state``; handlers reach it through
:func:`state_of` (``deps.py``).
"""

from __future__ import annotations

import httpx
from fastapi import FastAPI, Request
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.datastructures import State

from doorstep_shared.auth.tokens import KeySet, TokenVerifier
from doorstep_shared.http.observability import Metrics

from .config import CatalogSettings
from .items.index import CatalogIndex


class CatalogState(State):
    """Annotations only, never class-level defaults: ``State`` keeps values in a dict, and a class
    attribute would shadow what is set on the instance."""

    # Set by doorstep_shared.app.create_service_app (the first two at build time, the rest in
    # its lifespan).
    settings: CatalogSettings
    metrics: Metrics
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    http: httpx.AsyncClient
    key_set: KeySet
    verifier: TokenVerifier
    # Set by create_app: this replica's in-memory search index and compiled rules.
    catalog_index: CatalogIndex

    @classmethod
    def install(cls, app: FastAPI) -> CatalogState:
        """Become ``app.state``, keeping what the app already holds."""
        state = cls({key: app.state[key] for key in app.state})
        app.state = state
        return state


def state_of(request: Request) -> CatalogState:
    state = request.app.state
    assert isinstance(state, CatalogState), "create_app installs CatalogState"
    return state
