"""A poor mobile link on loopback: an in-process asyncio TCP proxy that shapes what passes.

    async with ShapedLink(target_port, Shape()) as link:     # 1 Mbit/s down, 384 kbit/s up,
        httpx.AsyncClient(base_url=link.url)                  # 150 ms each way, 1 % loss

Each direction is one shared link (a phone has one radio): bytes are cut into segments of one
MSS, each leaves when the link is free (serialisation at the configured rate, every connection
queueing behind the others) and arrives ``delay`` later. TCP hides loss from the application,
so a lost segment shows as what TCP makes of it: that segment (and, in order, everything behind
it on the same connection) arrives one retransmission late — a minimum RTO (200 ms, Linux's
floor) plus a round trip. A new connection pays one extra round trip before its first byte (the
SYN / SYN-ACK exchange); TLS is not modelled. Loss is drawn from a seeded generator, so two runs
of the same traffic lose the same segments.

Counters (``bytes_up``, ``bytes_down``, ``connections``) are what crossed the link, HTTP headers
included. Portable: no root, no ``tc``; listens on 127.0.0.1 only.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

MSS = 1460


@dataclass(frozen=True)
class Shape:
    down_bps: float = 1_000_000  # server → phone
    up_bps: float = 384_000  # phone → server
    delay: float = 0.150  # one way, seconds
    loss: float = 0.01  # share of segments lost (each direction)
    min_rto: float = 0.200
    seed: int = 22

    @property
    def rtt(self) -> float:
        return 2 * self.delay

    @property
    def loss_penalty(self) -> float:
        return self.min_rto + self.rtt


@dataclass
class _Direction:
    """One way of the link: when it is next free, and its byte count."""

    bps: float
    free_at: float = 0.0
    bytes: int = 0
    lost: int = 0

    def depart(self, now: float, size: int) -> float:
        """When a segment of ``size`` bytes has been put on the wire (FIFO behind the others)."""
        start = max(now, self.free_at)
        self.free_at = start + size * 8 / self.bps
        self.bytes += size
        return self.free_at


@dataclass
class ShapedLink:
    """A listening proxy to ``127.0.0.1:target_port`` shaped by ``shape``."""

    target_port: int
    shape: Shape = field(default_factory=Shape)
    port: int = 0
    connections: int = 0

    def __post_init__(self) -> None:
        self._down = _Direction(self.shape.down_bps)
        self._up = _Direction(self.shape.up_bps)
        self._rng = random.Random(self.shape.seed)
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[Any]] = set()  # the connections' handlers

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def bytes_up(self) -> int:
        return self._up.bytes

    @property
    def bytes_down(self) -> int:
        return self._down.bytes

    @property
    def segments_lost(self) -> int:
        return self._up.lost + self._down.lost

    def reset_counters(self) -> None:
        self._up.bytes = self._down.bytes = self._up.lost = self._down.lost = 0
        self.connections = 0

    async def __aenter__(self) -> ShapedLink:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        assert self._server is not None
        self._server.close()
        await asyncio.sleep(0)
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await self._server.wait_closed()

    async def _accept(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        me = asyncio.current_task()
        if me is not None:
            self._tasks.add(me)
        self.connections += 1
        writers = [client_w]
        pumps: list[asyncio.Task[None]] = []
        try:
            server_r, server_w = await asyncio.open_connection("127.0.0.1", self.target_port)
            writers.append(server_w)
            loop = asyncio.get_running_loop()
            handshake_until = loop.time() + self.shape.rtt  # SYN, SYN-ACK before the first byte leaves
            pumps = [
                asyncio.create_task(self._pump(client_r, server_w, self._up, handshake_until)),
                asyncio.create_task(self._pump(server_r, client_w, self._down, 0.0)),
            ]
            await asyncio.wait(pumps, return_when=asyncio.FIRST_COMPLETED)
            await asyncio.sleep(self.shape.delay)  # what is in flight still lands
        except (OSError, asyncio.CancelledError):
            pass
        finally:
            for task in pumps:
                task.cancel()
            for task in pumps:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
            for w in writers:
                w.close()
                with contextlib.suppress(Exception):
                    await w.wait_closed()
            if me is not None:
                self._tasks.discard(me)

    async def _pump(
        self, source: asyncio.StreamReader, sink: asyncio.StreamWriter, way: _Direction, not_before: float
    ) -> None:
        """Read from ``source``, deliver each segment to ``sink`` when the shaped link would."""
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[tuple[float, bytes] | None] = asyncio.Queue()
        writer = asyncio.create_task(self._deliver(queue, sink))
        last = not_before
        try:
            while True:
                chunk = await source.read(65536)
                if not chunk:
                    break
                for start in range(0, len(chunk), MSS):
                    segment = chunk[start : start + MSS]
                    arrive = way.depart(max(loop.time(), not_before), len(segment)) + self.shape.delay
                    if self._rng.random() < self.shape.loss:
                        way.lost += 1
                        arrive += self.shape.loss_penalty
                    last = max(last, arrive)  # in order: a late segment holds back the ones behind it
                    queue.put_nowait((last, segment))
        finally:
            queue.put_nowait(None)
            with contextlib.suppress(Exception):
                await writer

    @staticmethod
    async def _deliver(queue: asyncio.Queue[tuple[float, bytes] | None], sink: asyncio.StreamWriter) -> None:
        loop = asyncio.get_running_loop()
        while (item := await queue.get()) is not None:
            at, segment = item
            wait = at - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            sink.write(segment)
            await sink.drain()
        if sink.can_write_eof():
            with contextlib.suppress(Exception):
                sink.write_eof()
