"""The stations app's background work, all of it: the worker (timed rules — minimum-participant
cancellations, reminders, waitlist sweep — and the outbox dispatcher that sends notifications)
and the webhook dispatcher, which runs as a task of its own so that slow receivers never delay
notifications.

Both run as ``doorstep_shared.background.BackgroundWork`` tasks of the app's lifespan
(``background_work``; ``DOORSTEP_STATIONS_WORKER_ENABLED``); every step is safe with several
replicas running it at once.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from doorstep_shared.background import BackgroundWork
from doorstep_shared.clock import utcnow
from doorstep_shared.db.outbox import OutboxMessage, OutboxWorker
from doorstep_shared.pii import PiiCipher

from .bookings import service as bookings
from .notifications.models import outbox
from .notifications.service import Notifier, OutgoingMessage, make_handler
from .tickets import service as tickets

if TYPE_CHECKING:  # the state names the worker's class, so it imports this module
    from .state import StationsState

logger = logging.getLogger("doorstep.stations.worker")

Job = Callable[[AsyncSession, dt.datetime], Awaitable[Any]]

JOBS: tuple[tuple[str, Job], ...] = (
    ("auto_cancel_underbooked", bookings.auto_cancel_underbooked),
    ("send_reminders", bookings.send_reminders),
    ("promote_sweep", bookings.promote_sweep),
)


class StationsWorker:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        notifier: Notifier,
        cipher: PiiCipher,
        *,
        interval: float = 5.0,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.interval = interval
        self.cipher = cipher
        self.outbox = OutboxWorker(sessionmaker, outbox, make_handler(notifier, self.compose), poll_interval=interval)

    async def compose(self, session: AsyncSession, message: OutboxMessage) -> OutgoingMessage | None:
        """The message an outbox row stands for: each sub-domain writes its own."""
        if message.topic.startswith("ticket."):
            return await tickets.compose_notification(session, self.cipher, message)
        return await bookings.compose_notification(session, self.cipher, message)

    async def run_jobs(self, now: dt.datetime | None = None) -> dict[str, Any]:
        """Each job in its own transaction, so one failing does not hold the others back."""
        now = now or utcnow()
        results: dict[str, Any] = {}
        for name, job in JOBS:
            try:
                async with self.sessionmaker() as session, session.begin():
                    results[name] = await job(session, now)
            except Exception:
                logger.exception("stations job %s failed", name)
        return results

    async def tick(self, now: dt.datetime | None = None) -> int:
        """One pass: timed rules, then deliver every due notification. Returns messages sent."""
        await self.run_jobs(now)
        return await self.outbox.run_until_idle(now)


def background_work(state: StationsState) -> BackgroundWork:
    """The worker and the webhook dispatcher's poll loop (when ``worker_enabled``); on shutdown
    both stop, then the dispatcher's HTTP client is closed."""
    work = BackgroundWork("stations", enabled=state.settings.worker_enabled, logger=logger)
    work.every("worker", state.worker.tick, interval=state.worker.interval)
    work.loop("webhooks", state.webhook_dispatcher.run_forever)
    work.on_shutdown(state.webhook_dispatcher.aclose)
    return work
