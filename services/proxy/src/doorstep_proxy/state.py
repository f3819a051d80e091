"""The proxy's state, typed: what ``app.state`` carries beyond every app's
(:class:`doorstep_shared.app.AppState`). ``create_app`` hands it to ``create_service_app``;
dependencies and background work read ``state_of(request).pii``, never an untyped attribute bag.
"""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import FastAPI
from prometheus_client import Counter
from starlette.requests import HTTPConnection

from doorstep_shared.app import AppState
from doorstep_shared.directory import Directory
from doorstep_shared.directory_copy import DirectoryCopy
from doorstep_shared.pii import PiiCipher
from doorstep_shared.staff_roster import RosterCopy
from doorstep_shared.webhooks import WebhookConfig, WebhookDispatcher

from .catalog_client import CatalogClient
from .config import ProxySettings


class ProxyState(AppState):
    settings: ProxySettings
    # create_app, then its lifespan
    webhook_config: WebhookConfig
    retention_erased: Counter
    pii: PiiCipher
    catalog: CatalogClient
    directory: DirectoryCopy  # the org directory, followed from the gateway
    roster: RosterCopy  # the staff records the worker roster follows, from the gateway
    webhook_dispatcher: WebhookDispatcher
    # discovery runs started by requests and still running (background.py)
    discovery_tasks: set[asyncio.Task[Any]]
    # one read-your-writes drain of the change queue at a time (discovery.service.refresh_leads)
    drain_lock: asyncio.Lock

    def __init__(self, state: dict[str, Any] | None = None) -> None:
        super().__init__(state)
        # A plain attribute beside the state entries: made with the state, never replaced.
        object.__setattr__(self, "discovery_tasks", set())
        object.__setattr__(self, "drain_lock", asyncio.Lock())

    def tenancy_directory(self) -> Directory | None:
        """County roles see the communities of their county in the copy as it is now."""
        copy: DirectoryCopy | None = getattr(self, "directory", None)  # set by the lifespan
        return copy.current if copy is not None else None


def state_of(holder: HTTPConnection | FastAPI) -> ProxyState:
    """The proxy's state of a request's app (or of the app itself)."""
    return ProxyState.of(holder)
