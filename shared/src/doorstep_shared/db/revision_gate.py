"""When a per-process copy of slowly changing data (the catalogue's handbooks, the stations'
snapshot) re-reads the revision it was built from.

At most every ``check_interval`` seconds, and at once after this process committed a revision
bump (``bumps()`` counts them), so an own write is visible to the next read and another
replica's within the interval. Between checks a hot read opens no database session.

No reader waits for a check it does not need:

- a check due by time (another replica's write, seen within the interval) runs in the
  background, one at a time, and the reader that found it due is served the copy held, as is
  every reader until it is done: that copy is as fresh as it was a moment before the check
  became due. On SQLite under load a revision read takes tens to hundreds of milliseconds (its
  thread waits for the event loop's turns), and the reader that made it used to wait that long;
  the readers arriving meanwhile waited for it too;
- a check due because this process committed a bump, or told to (``expire``), or with no copy
  yet, or with ``check_interval`` 0, is read by the reader itself (one at a time; the others
  wait), so an own write is never served stale;
- a background check that fails (the database down) makes the next reader check for itself, so
  the failure reaches readers as before (a 503 problem) instead of the copy being served on
  and on unchecked.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

T = TypeVar("T")

logger = logging.getLogger(__name__)


class RevisionGate(Generic[T]):
    """The bookkeeping of one copy's revision checks; the copy keeps its own value and build."""

    def __init__(self, bumps: Callable[[], int], *, check_interval: float = 0.0) -> None:
        self._bumps = bumps
        self.check_interval = check_interval  # seconds between revision reads on ``served``
        self._lock = asyncio.Lock()
        self._checked_at = -float("inf")  # time.monotonic() of the last revision read
        self._checked_bumps = -1  # bumps() before that read (-1: the next reader checks itself)
        self._background: asyncio.Task[None] | None = None

    def expire(self) -> None:
        """Re-read the revision on the next ``served``, before it answers (the database changed
        behind this process's back without a revision bump: a restore, a test emptying tables)."""
        self._checked_at = -float("inf")
        self._checked_bumps = -1

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
        """``held()`` while it is fresh, or while a check due only by time runs in the
        background; else ``check()``, one at a time (the module's documentation)."""
        current = held()
        value = self.fresh(current)
        if value is not None:
            return value
        if current is not None and self.check_interval > 0 and self._checked_bumps == self._bumps():
            if self._background is None:
                self._background = asyncio.create_task(self._check_behind(held, check), name="revision-check")
            return current
        async with self._lock:
            value = self.fresh(held())
            if value is not None:
                return value
            return await check()

    async def _check_behind(self, held: Callable[[], T | None], check: Callable[[], Awaitable[T]]) -> None:
        try:
            async with self._lock:
                if self.fresh(held()) is None:
                    await check()
        except Exception:  # the next reader checks for itself, and meets the failure
            logger.warning("revision check failed; the next read checks again", exc_info=True)
            self._checked_bumps = -1
        finally:
            self._background = None

    async def close(self) -> None:
        """Stop a background check under way (an app shutting down, its engine next)."""
        task, self._background = self._background, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
