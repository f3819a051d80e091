"""The stations app: party-mass service stations (党群驿站)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from fastapi import FastAPI

from doorstep_shared.app import create_service_app
from doorstep_shared.auth.tokens import KeySet
from doorstep_shared.db.directory_store import DirectoryStore
from doorstep_shared.directory import Directory
from doorstep_shared.directory_copy import directory_copy, following
from doorstep_shared.staff_roster import RosterCopy, StaffRoster, following_roster, roster_url
from doorstep_shared.webhooks import WebhookDispatcher

from .background import StationsWorker, background_work
from .bookings import router as bookings
from .config import StationsSettings, get_settings
from .events import router as events
from .events.models import hooks
from .figures import router as figures
from .hours import router as hours
from .notifications import router as notifications
from .notifications.service import LogNotifier
from .placement import service as placement
from .placement.models import directory_copy as directory_copy_table
from .search import router as search
from .snapshot.service import CHECK_INTERVAL, StationsSnapshot
from .state import StationsState
from .stations import router as stations
from .stations import service as station_rules
from .tickets import router as tickets

TAGS = [
    {"name": "stations", "description": "Party-mass service stations (党群驿站), search"},
    {"name": "services", "description": "A station's featured services"},
    {"name": "hours", "description": "Opening hours, exceptions, open now / next opening"},
    {"name": "sessions", "description": "Class sessions and appointment slots"},
    {"name": "bookings", "description": "Bookings, waitlist, check-in"},
    {"name": "tickets", "description": "Drop-off tickets (爱心裁缝铺 and the like)"},
    {"name": "notifications", "description": "Messages sent to residents"},
    {"name": "figures", "description": "People served per station"},
    {
        "name": "webhooks",
        "description": "Signed event deliveries (Standard Webhooks) to machine clients: "
        "subscriptions, secret rotation, delivery log, redelivery",
    },
]


def create_app(settings: StationsSettings | None = None, *, key_set: KeySet | None = None) -> FastAPI:
    settings = settings or get_settings()
    state = StationsState()
    state.webhook_config = settings.webhook_config()
    state.snapshot = StationsSnapshot(check_interval=CHECK_INTERVAL)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        state.pii = settings.pii_cipher()
        state.notifier = LogNotifier()
        state.worker = StationsWorker(state.sessionmaker, state.notifier, state.pii, interval=settings.worker_interval)
        state.webhook_dispatcher = WebhookDispatcher(hooks, state.sessionmaker, state.pii, state.webhook_config)
        store = DirectoryStore(directory_copy_table, state.sessionmaker)
        state.directory = directory_copy(settings, state.http, state.dependencies, store)

        async def apply(before: Directory | None, after: Directory) -> None:
            async with state.sessionmaker() as session:
                await placement.follow(session, after)
                await session.commit()

        state.directory.on_change(apply)
        await state.directory.refresh()
        # The keepers follow the gateway's staff records (the gateway the directory comes from).
        # Without a service key (production, unset) they do not: admins set keepers here.
        credentials = settings.service_credentials()
        state.roster = RosterCopy(
            url=roster_url(settings.directory_url) if credentials is not None else None,
            http=state.http,
            credentials=credentials,
            dependencies=state.dependencies,
        )

        async def keepers(roster: StaffRoster) -> None:
            async with state.sessionmaker() as session:
                await station_rules.follow_roster(session, roster)
                await session.commit()

        state.roster.on_change(keepers)
        await state.roster.refresh()
        async with (
            following(state.directory, settings).running(),
            following_roster(state.roster, settings.directory_poll_seconds, settings.service_name).running(),
            background_work(state).running() as work,
        ):
            state.worker_task, state.webhook_task = work.tasks.get("worker"), work.tasks.get("webhooks")
            try:
                yield
            finally:
                await state.snapshot.close()

    return create_service_app(
        settings=settings,
        title="Doorstep stations",
        description="Party-mass service stations (党群驿站): featured services, opening hours, "
        "class bookings with waitlists, drop-off tickets and notifications.",
        package="doorstep_stations",
        # In this order, the OpenAPI document lists the paths as it always has.
        routers=[
            search.router,
            stations.router,
            hours.router,
            notifications.router,
            figures.router,
            bookings.router,
            tickets.router,
            events.router,
        ],
        key_set=key_set,
        openapi_tags=TAGS,
        extra_lifespan=lifespan,
        state=state,
    )
