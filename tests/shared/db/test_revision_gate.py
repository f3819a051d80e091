"""RevisionGate: a check due by time holds no reader up (it runs in the background; readers get
the copy held); one due to an own commit, to ``expire``, with no copy yet or an interval of 0
holds every reader until it is done; a failed background check sends the next reader to check."""

from __future__ import annotations

import asyncio

import pytest

from doorstep_shared.db.revision_gate import RevisionGate


class Copy:
    """A copy whose check reads a revision the test releases (``release``)."""

    def __init__(self, bumps: list[int], interval: float) -> None:
        self.bumps = bumps
        self.gate: RevisionGate[str] = RevisionGate(lambda: bumps[0], check_interval=interval)
        self.value: str | None = None
        self.revision = "r1"
        self.checks = 0
        self.failing = False
        self.release = asyncio.Event()

    async def check(self) -> str:
        started = self.gate.start()
        self.checks += 1
        await self.release.wait()
        if self.failing:
            raise ConnectionError("database down")
        self.value = self.revision
        self.gate.checked(started)
        return self.value

    async def served(self) -> str:
        return await self.gate.served(lambda: self.value, self.check)

    async def warm(self) -> None:
        self.release.set()
        assert await self.served() == self.revision
        self.release.clear()


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_a_check_due_by_time_runs_behind_the_readers_who_get_the_copy_held() -> None:
    copy = Copy([0], interval=0.05)
    await copy.warm()
    await asyncio.sleep(0.06)  # the check is due by time
    copy.revision = "r2"  # another replica wrote
    assert await asyncio.wait_for(copy.served(), 1) == "r1"  # not held up
    await settle()
    assert copy.checks == 2  # the check it started, in the background
    assert [await asyncio.wait_for(copy.served(), 1) for _ in range(3)] == ["r1"] * 3 and copy.checks == 2
    copy.release.set()
    await settle()
    assert await copy.served() == "r2" and copy.checks == 2


async def test_after_an_own_commit_or_expire_every_reader_waits_for_the_check() -> None:
    for own_commit in (True, False):
        copy = Copy([0], interval=3600)
        await copy.warm()
        copy.revision = "r2"
        if own_commit:
            copy.bumps[0] = 1  # this process committed a bump
        else:
            copy.gate.expire()  # the database changed behind the process's back
        readers = [asyncio.create_task(copy.served()) for _ in range(3)]
        await settle()
        assert copy.checks == 2 and not any(r.done() for r in readers)
        copy.release.set()
        assert await asyncio.gather(*readers) == ["r2"] * 3 and copy.checks == 2


async def test_with_no_copy_yet_or_an_interval_of_zero_readers_wait() -> None:
    for interval, warm in ((3600.0, False), (0.0, True)):
        copy = Copy([0], interval)
        if warm:
            await copy.warm()
        copy.revision = "r2"
        readers = [asyncio.create_task(copy.served()) for _ in range(2)]
        await settle()
        assert not any(r.done() for r in readers)
        copy.release.set()
        assert await asyncio.gather(*readers) == ["r2", "r2"]


async def test_a_failed_background_check_sends_the_next_reader_to_the_database() -> None:
    copy = Copy([0], interval=0.05)
    await copy.warm()
    await asyncio.sleep(0.06)
    copy.failing = True
    copy.release.set()
    assert await copy.served() == "r1"  # served; the check behind it fails
    await settle()
    with pytest.raises(ConnectionError):  # the next reader checks itself and meets the failure
        await copy.served()
    copy.failing, copy.revision = False, "r2"
    assert await copy.served() == "r2"


async def test_close_stops_a_background_check() -> None:
    copy = Copy([0], interval=0.05)
    await copy.warm()
    await asyncio.sleep(0.06)
    assert await copy.served() == "r1"
    await settle()
    assert copy.checks == 2
    await asyncio.wait_for(copy.gate.close(), 1)  # the check never released: cancelled
    assert copy.gate._background is None
