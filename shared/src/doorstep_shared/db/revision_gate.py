"""When a per-process copy of slowly changing data (the catalogue's handbooks, the stations'
snapshot) re-reads the revision it was built from.

At most every ``check_interval`` seconds, and at once after this process committed a revision
bump (``bumps()`` counts them), so an own write is visible to the next read and another
replica's within the interval. Between checks a hot read opens no database session. One check
at a time: concurrent readers wait for it instead of each reading the revision.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class RevisionGate(Generic[T]):
    """The bookkeeping of one copy's revision checks; the copy keeps its own value and build."""

    def __init__(self, bumps: Callable[[], int], *, check_interval: float = 0.0) -> None:
        self._bumps = bumps
        self.check_interval = check_interval  # seconds between revision reads on ``served``
        self._lock = asyncio.Lock()
        self._checked_at = -float("inf")  # time.monotonic() of the last revision read
        self._checked_bumps = -1  # bumps() before that read

    def expire(self) -> None:
        """Re-read the revision on the next ``served`` (the database changed behind this
        process's back without a revision bump: a restore, a test emptying tables)."""
        self._checked_at = -float("inf")

    def start(self) -> tuple[float, int]:
        """Call right before reading the revision: what ``checked`` records once it is read
        (bumps counted first, so a commit during the read makes the next one re-check)."""
        return time.monotonic(), self._bumps()

    def checked(self, started: tuple[float, int]) -> None:
        self._checked_at, self._checked_bumps = started

    def fresh(self, value: T | None) -> T | None:
        """``value`` if no check is due, else None."""
        if (
            value is not None
            and self._checked_bumps == self._bumps()
            and time.monotonic() - self._checked_at < self.check_interval
        ):
            return value
        return None

    async def served(self, held: Callable[[], T | None], check: Callable[[], Awaitable[T]]) -> T:
        """``held()`` while it is fresh; else ``check()`` (one at a time, the others wait)."""
        value = self.fresh(held())
        if value is not None:
            return value
        async with self._lock:
            value = self.fresh(held())
            if value is not None:
                return value
            return await check()
