"""The stations app's state, typed: what ``app.state`` carries beyond every app's
(:class:`doorstep_shared.app.AppState`). ``create_app`` hands it to ``create_service_app``;
handlers reach it through :func:`state_of` (``deps.py``), the lifespan through the object itself.
"""

from __future__ import annotations

import asyncio

from fastapi import FastAPI
from starlette.requests import HTTPConnection

from doorstep_shared.app import AppState
from doorstep_shared.directory import Directory
from doorstep_shared.directory_copy import DirectoryCopy
from doorstep_shared.pii import PiiCipher
from doorstep_shared.staff_roster import RosterCopy
from doorstep_shared.webhooks import WebhookConfig, WebhookDispatcher

from .background import StationsWorker
from .config import StationsSettings
from .notifications.service import Notifier
from .snapshot.service import StationsSnapshot


class StationsState(AppState):
    settings: StationsSettings
    # Set by create_app: this process's snapshot of the stations, services and hours (hot reads).
    snapshot: StationsSnapshot
    # Set by create_app (webhook_config at build time, so tests can swap it) and its lifespan.
    webhook_config: WebhookConfig
    pii: PiiCipher
    directory: DirectoryCopy  # the org directory, followed from the gateway
    roster: RosterCopy  # the staff records the stations' keepers follow, from the gateway
    notifier: Notifier
    worker: StationsWorker
    worker_task: asyncio.Task[None] | None
    webhook_dispatcher: WebhookDispatcher
    webhook_task: asyncio.Task[None] | None

    def tenancy_directory(self) -> Directory | None:
        """County roles see the communities of their county in the copy as it is now."""
        copy: DirectoryCopy | None = getattr(self, "directory", None)  # set by the lifespan
        return copy.current if copy is not None else None


def state_of(holder: HTTPConnection | FastAPI) -> StationsState:
    return StationsState.of(holder)
