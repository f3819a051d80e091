"""The gateway's directory export, served for real on a free port (what the services poll), and
directories redrawn from the demo one."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import replace
from typing import Any

import uvicorn

from doorstep_shared.clock import epoch_seconds
from doorstep_shared.directory import Compound, Directory, demo_directory_file
from doorstep_shared.directory_copy import read_directory_file

DEMO = read_directory_file(demo_directory_file())


def with_compound(directory: Directory, compound: Compound) -> Directory:
    return Directory.of(directory.counties, directory.communities, directory.grids, (*directory.compounds, compound))


def redrawn(directory: Directory, code: str, **place: str) -> Directory:
    """``directory`` with compound ``code`` moved (``grid=``, ``community=``)."""
    compounds = [replace(c, **place) if c.code == code else c for c in directory.compounds]
    return Directory.of(directory.counties, directory.communities, directory.grids, compounds)


class ExportServer:
    """``GET /api/v1/directory/export``: ``directory`` with its ETag, 304 on If-None-Match."""

    def __init__(self, directory: Directory) -> None:
        self.directory = directory
        self.url = ""
        self.requests = 0

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        assert scope["type"] == "http" and scope["path"] == "/api/v1/directory/export"
        self.requests += 1
        etag = f'"{self.directory.revision}"'.encode()
        headers = dict(scope["headers"])
        if headers.get(b"if-none-match") == etag:
            await send({"type": "http.response.start", "status": 304, "headers": [(b"etag", etag)]})
            await send({"type": "http.response.body", "body": b""})
            return
        body = json.dumps(self.directory.to_export(), ensure_ascii=False).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"etag", etag), (b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": body})


@asynccontextmanager
async def serving(directory: Directory) -> AsyncIterator[ExportServer]:
    export = ExportServer(directory)
    async with serving_app(export) as url:
        export.url = url
        yield export


@asynccontextmanager
async def serving_app(app: Any) -> AsyncIterator[str]:
    """An ASGI app (its lifespan already running, or none) on a free port; yields its base URL."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, lifespan="off", log_level="warning"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        while not server.started:  # noqa: ASYNC110 (uvicorn offers no event for it)
            await asyncio.sleep(0.01)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        await task
        sock.close()


async def within(seconds: float, check: Callable[[], Awaitable[bool]]) -> float:
    """Seconds until ``check()`` holds; fails after ``seconds``."""
    started = epoch_seconds()
    while not await check():
        assert epoch_seconds() - started < seconds, f"not within {seconds} s"
        await asyncio.sleep(0.1)
    return epoch_seconds() - started
