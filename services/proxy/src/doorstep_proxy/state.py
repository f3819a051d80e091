"""The proxy's ``app.state``, typed: what the shared app factory, ``create_app`` and its lifespan
put there, so dependencies and background work read ``state_of(request).pii`` instead of an
untyped ``request.app.state.pii``."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from fastapi import FastAPI
from prometheus_client import Counter
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.datastructures import State
from starlette.requests import HTTPConnection

from doorstep_shared.auth.tokens import KeySet, TokenVerifier
from doorstep_shared.http.health import Dependencies
from doorstep_shared.http.observability import Metrics
from doorstep_shared.pii import PiiCipher
from doorstep_shared.webhooks import WebhookConfig, WebhookDispatcher

from .catalog_client import CatalogClient
from .config import ProxySettings


class ProxyState(State):
    """``app.state`` of the proxy (installed by ``create_app``)."""

    # create_service_app (doorstep_shared.app): at creation, then in its lifespan
    settings: ProxySettings
    metrics: Metrics
    dependencies: Dependencies
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    http: httpx.AsyncClient
    key_set: KeySet
    verifier: TokenVerifier
    # create_app, then its lifespan
    webhook_config: WebhookConfig
    retention_erased: Counter
    pii: PiiCipher
    catalog: CatalogClient
    webhook_dispatcher: WebhookDispatcher
    # discovery runs started by requests and still running (background.py)
    discovery_tasks: set[asyncio.Task[Any]]

    def __init__(self, state: dict[str, Any] | None = None) -> None:
        super().__init__(state)
        # A plain attribute beside the state entries: made with the state, never replaced.
        object.__setattr__(self, "discovery_tasks", set())

    @classmethod
    def adopt(cls, state: State) -> ProxyState:
        """A typed state with the entries ``state`` already holds."""
        return cls({name: state[name] for name in state})


def state_of(holder: HTTPConnection | FastAPI) -> ProxyState:
    """The proxy's state of a request's app (or of the app itself)."""
    app = holder.app if isinstance(holder, HTTPConnection) else holder
    state = app.state
    if not isinstance(state, ProxyState):
        raise TypeError("not a proxy app: its state is not a ProxyState")
    return state
