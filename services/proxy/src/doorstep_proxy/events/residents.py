"""The "residents changed" notification: the ledger announces residents whose facts, address or
status changed, in the transaction of the change, and whoever subscribed acts in that same
transaction.

The ledger publishes without knowing who listens. Discovery subscribes where the service is
assembled (``main.create_app``, and ``seed.seed`` for the launcher's demo load, which runs
without an app), so the ground floor never imports the floor above it.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence

from sqlmodel.ext.asyncio.session import AsyncSession

Subscriber = Callable[[AsyncSession, Sequence[uuid.UUID]], Awaitable[None]]


class ResidentsChanged:
    """An in-process notification with its subscribers, called in subscription order."""

    def __init__(self) -> None:
        self._subscribers: list[Subscriber] = []

    def subscribe(self, subscriber: Subscriber) -> None:
        """Idempotent: every app built in one process subscribes the same function once."""
        if subscriber not in self._subscribers:
            self._subscribers.append(subscriber)

    async def publish(self, session: AsyncSession, resident_ids: Sequence[uuid.UUID]) -> None:
        for subscriber in self._subscribers:
            await subscriber(session, resident_ids)


residents_changed = ResidentsChanged()
