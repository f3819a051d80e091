"""A small closed-loop HTTP/1.1 load generator, used when wrk is not installed.

N keep-alive connections on asyncio (uvloop when present), each sending the next GET as soon
as the previous answer is in. Bounded by time AND request count; loopback URLs only.

    .venv/bin/python bench/loadgen.py http://127.0.0.1:8001/healthz -c 32 -d 5 [-n 100000] [--json]

It costs more CPU per request than wrk, so on a 2-core machine absolute req/s are lower than
with wrk; ratios measured with the same generator stay comparable.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections.abc import Callable
from urllib.parse import urlsplit

LOOPBACK = {"127.0.0.1", "localhost", "::1"}


class Stats:
    def __init__(self, max_requests: int) -> None:
        self.latencies: list[float] = []
        self.errors = 0
        self.remaining = max_requests


async def _read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = None
    chunked = False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        lname = name.strip().lower()
        if lname == b"content-length":
            length = int(value.strip())
        elif lname == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
    if chunked:
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    elif length:
        await reader.readexactly(length)
    return status


async def _worker(host: str, port: int, request: bytes, deadline: float, stats: Stats) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        while time.perf_counter() < deadline and stats.remaining > 0:
            stats.remaining -= 1
            started = time.perf_counter()
            writer.write(request)
            try:
                status = await _read_response(reader)
            except (asyncio.IncompleteReadError, ConnectionError):
                stats.errors += 1
                writer.close()
                reader, writer = await asyncio.open_connection(host, port)
                continue
            stats.latencies.append(time.perf_counter() - started)
            if status >= 400:
                stats.errors += 1
    finally:
        writer.close()


async def run(
    url: str, connections: int, seconds: float, max_requests: int, headers: list[str]
) -> dict[str, float | int]:
    parts = urlsplit(url)
    host = parts.hostname or "127.0.0.1"
    if host not in LOOPBACK:
        raise SystemExit("loadgen: loopback targets only")
    port = parts.port or 80
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    lines = [f"GET {target} HTTP/1.1", f"Host: {host}:{port}", *headers]
    request = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    stats = Stats(max_requests)
    started = time.perf_counter()
    deadline = started + seconds
    await asyncio.gather(*(_worker(host, port, request, deadline, stats) for _ in range(connections)))
    elapsed = time.perf_counter() - started
    lat = sorted(stats.latencies)
    n = len(lat)

    def pct(q: float) -> float:
        return lat[min(n - 1, int(n * q))] * 1000 if n else 0.0

    return {
        "requests": n,
        "errors": stats.errors,
        "seconds": elapsed,
        "rps": n / elapsed if elapsed else 0.0,
        "p50_ms": pct(0.50),
        "p99_ms": pct(0.99),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url")
    parser.add_argument("-c", "--connections", type=int, default=32)
    parser.add_argument("-d", "--duration", type=float, default=5.0, help="seconds (max 120)")
    parser.add_argument("-n", "--requests", type=int, default=1_000_000, help="request cap")
    parser.add_argument("-H", "--header", action="append", default=[])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    loop_factory: Callable[[], asyncio.AbstractEventLoop] = asyncio.new_event_loop
    try:
        import uvloop

        loop_factory = uvloop.new_event_loop
    except ImportError:
        pass
    with asyncio.Runner(loop_factory=loop_factory) as runner:
        result = runner.run(run(args.url, args.connections, min(args.duration, 120.0), args.requests, args.header))
    if args.json:
        json.dump(result, sys.stdout)
        print()
    else:
        print(
            f"{result['requests']} requests in {result['seconds']:.2f} s, "
            f"{result['rps']:.0f} req/s, p50 {result['p50_ms']:.2f} ms, "
            f"p99 {result['p99_ms']:.2f} ms, errors {result['errors']}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
