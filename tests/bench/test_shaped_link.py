"""The benchmark's shaped link does what it is configured to: delay, rate, loss, byte counts."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest

from bench.shaped_link import Shape, ShapedLink

# Small figures so the test stays short: 50 ms each way, 800 kbit/s down, 200 kbit/s up.
SHAPE = Shape(down_bps=800_000, up_bps=200_000, delay=0.05, loss=0.0)


async def _serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """A line server: ``n`` → n bytes back, then the next line (``#…`` lines are padding)."""
    while line := await reader.readline():
        if line.startswith(b"#"):
            continue
        size = int(line)
        writer.write(b"x" * size)
        await writer.drain()
    writer.close()
    await writer.wait_closed()


@pytest.fixture
async def upstream() -> AsyncIterator[int]:
    server = await asyncio.start_server(_serve, "127.0.0.1", 0)
    yield server.sockets[0].getsockname()[1]
    server.close()
    await server.wait_closed()


async def _ask(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, size: int) -> float:
    started = time.perf_counter()
    writer.write(f"{size}\n".encode())
    await writer.drain()
    got = await reader.readexactly(size)
    assert got == b"x" * size
    return time.perf_counter() - started


async def test_a_round_trip_takes_twice_the_delay_and_a_new_connection_one_more(upstream: int) -> None:
    async with ShapedLink(upstream, SHAPE) as link:
        reader, writer = await asyncio.open_connection("127.0.0.1", link.port)
        first = await _ask(reader, writer, 10)
        second = await _ask(reader, writer, 10)
        writer.close()
        await writer.wait_closed()
    assert 0.19 <= first <= 0.30  # SYN/SYN-ACK (0.1 s) + request and answer (0.1 s)
    assert 0.095 <= second <= 0.16
    assert link.connections == 1 and link.bytes_up == 6 and link.bytes_down == 20


async def test_bytes_down_flow_at_the_configured_rate(upstream: int) -> None:
    async with ShapedLink(upstream, SHAPE) as link:
        reader, writer = await asyncio.open_connection("127.0.0.1", link.port)
        await _ask(reader, writer, 1)
        took = await _ask(reader, writer, 100_000)  # 0.8 Mbit at 0.8 Mbit/s: 1 s, plus 0.1 s of delay
        writer.close()
        await writer.wait_closed()
    assert 1.0 <= took <= 1.35


async def test_bytes_up_flow_at_the_configured_rate(upstream: int) -> None:
    async with ShapedLink(upstream, SHAPE) as link:
        reader, writer = await asyncio.open_connection("127.0.0.1", link.port)
        await _ask(reader, writer, 1)
        started = time.perf_counter()
        writer.write(b"#" * 24_999 + b"\n")  # 0.2 Mbit at 0.2 Mbit/s: 1 s
        await writer.drain()
        writer.write(b"1\n")
        await writer.drain()
        await reader.readexactly(1)
        took = time.perf_counter() - started
        writer.close()
        await writer.wait_closed()
    assert 1.0 <= took <= 1.35


async def test_lost_segments_arrive_late_but_whole_and_in_order(upstream: int) -> None:
    lossy = Shape(down_bps=8_000_000, up_bps=8_000_000, delay=0.01, loss=0.3, min_rto=0.2, seed=3)
    async with ShapedLink(upstream, lossy) as link:
        reader, writer = await asyncio.open_connection("127.0.0.1", link.port)
        await _ask(reader, writer, 1)
        took = await _ask(reader, writer, 20 * 1460)
        writer.close()
        await writer.wait_closed()
    assert link.segments_lost > 0
    assert took >= lossy.loss_penalty  # at least one retransmission's wait
