"""The stations app's state, typed: every attribute ``app.state`` carries, in one place.

``create_app`` installs a :class:`StationsState` as ``app.state``; handlers reach it through
:func:`state_of` (``deps.py``), the lifespan through the object ``install`` returns.
"""

from __future__ import annotations

import asyncio

import httpx
from fastapi import FastAPI, Request
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.datastructures import State

from doorstep_shared.auth.tokens import KeySet, TokenVerifier
from doorstep_shared.http.observability import Metrics
from doorstep_shared.pii import PiiCipher
from doorstep_shared.webhooks import WebhookConfig, WebhookDispatcher

from .background import StationsWorker
from .config import StationsSettings
from .notifications.service import Notifier


class StationsState(State):
    """Annotations only, never class-level defaults: ``State`` keeps values in a dict, and a class
    attribute would shadow what is set on the instance."""

    # Set by doorstep_shared.app.create_service_app (the first two at build time, the rest in
    # its lifespan).
    settings: StationsSettings
    metrics: Metrics
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    http: httpx.AsyncClient
    key_set: KeySet
    verifier: TokenVerifier
    # Set by create_app (webhook_config at build time, so tests can swap it) and its lifespan.
    webhook_config: WebhookConfig
    pii: PiiCipher
    notifier: Notifier
    worker: StationsWorker
    worker_task: asyncio.Task[None] | None
    webhook_dispatcher: WebhookDispatcher
    webhook_task: asyncio.Task[None] | None

    @classmethod
    def install(cls, app: FastAPI) -> StationsState:
        """Become ``app.state``, keeping what the app already holds."""
        state = cls({key: app.state[key] for key in app.state})
        app.state = state
        return state


def state_of(request: Request) -> StationsState:
    state = request.app.state
    assert isinstance(state, StationsState), "create_app installs StationsState"
    return state
