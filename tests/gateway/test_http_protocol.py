"""The apps' uvicorn protocol: head and body of a small answer in one write, nothing held back."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import uvicorn
from starlette.types import Receive, Scope, Send

from doorstep_tools.launcher import CoalescingHttpToolsProtocol, CoalescingTransport

from ..support import free_port


class FakeTransport:
    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: bytes) -> None:
        self.writes.append(data)

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True

    def get_extra_info(self, name: str) -> str:
        return f"extra:{name}"


async def test_a_small_head_and_body_leave_in_one_write() -> None:
    fake = FakeTransport()
    transport = CoalescingTransport(fake, asyncio.get_running_loop())  # type: ignore[arg-type]
    transport.write(b"HTTP/1.1 200 OK\r\n\r\n")
    transport.write(b"{}")
    assert fake.writes == [b"HTTP/1.1 200 OK\r\n\r\n{}"]
    await asyncio.sleep(0)
    assert fake.writes == [b"HTTP/1.1 200 OK\r\n\r\n{}"]
    assert transport.get_extra_info("peername") == "extra:peername"


async def test_a_lone_write_goes_out_at_the_end_of_the_loop_turn_and_before_close() -> None:
    fake = FakeTransport()
    transport = CoalescingTransport(fake, asyncio.get_running_loop())  # type: ignore[arg-type]
    transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")
    assert fake.writes == []
    await asyncio.sleep(0)
    assert fake.writes == [b"HTTP/1.1 100 Continue\r\n\r\n"]
    transport.write(b"last")
    transport.close()
    assert fake.writes[-1] == b"last" and fake.closed


async def test_large_writes_are_not_held() -> None:
    fake = FakeTransport()
    transport = CoalescingTransport(fake, asyncio.get_running_loop())  # type: ignore[arg-type]
    big = b"x" * (64 * 1024)
    transport.write(big)
    assert fake.writes == [big]


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] != "http":
        return
    body = b""
    more = True
    while more:
        message = await receive()
        body += message.get("body", b"")
        more = message.get("more_body", False)
    if scope["path"] == "/stream":
        await send({"type": "http.response.start", "status": 200, "headers": []})
        for i in range(64):
            await send({"type": "http.response.body", "body": bytes([65 + i % 26]) * 16384, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})
        return
    answer = b"echo:" + body
    headers = [(b"content-length", str(len(answer)).encode())]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": answer})


@asynccontextmanager
async def serving() -> AsyncIterator[int]:
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, http=CoalescingHttpToolsProtocol, log_level="warning")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        for _ in range(1000):  # up to 10 s
            if server.started:
                break
            await asyncio.sleep(0.01)
        yield port
    finally:
        server.should_exit = True
        await task


async def test_uvicorn_serves_small_streamed_and_kept_alive_answers_through_it() -> None:
    async with serving() as port, httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
        for i in range(3):  # one kept-alive connection
            resp = await client.post("/echo", content=f"n{i}".encode())
            assert resp.content == f"echo:n{i}".encode()
        streamed = await client.get("/stream")
        assert len(streamed.content) == 64 * 16384
        assert streamed.content[:1] == b"A" and streamed.content[-1:] == bytes([65 + 63 % 26])


async def test_expect_100_continue_is_answered_before_the_body_is_sent() -> None:
    async with serving() as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        head = b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n"
        writer.write(head)
        interim = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
        assert interim.startswith(b"HTTP/1.1 100")
        writer.write(b"hi")
        answer = await asyncio.wait_for(reader.readuntil(b"echo:hi"), 5)
        assert answer.startswith(b"HTTP/1.1 200")
        writer.close()


def test_the_installed_uvicorn_is_one_the_protocol_was_tested_against() -> None:
    """CoalescingHttpToolsProtocol subclasses a non-public uvicorn class: the tools package bounds
    uvicorn to the releases these tests ran on, and the hooks it overrides must still exist. A
    uvicorn upgrade past the bound fails here first; raise the bound only with these tests green."""
    import inspect
    import tomllib
    from importlib.metadata import version
    from pathlib import Path

    from packaging.requirements import Requirement
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    pyproject = tomllib.loads((Path(__file__).resolve().parents[2] / "tools" / "pyproject.toml").read_text())
    (bound,) = [Requirement(r) for r in pyproject["project"]["dependencies"] if r.startswith("uvicorn")]
    assert any(spec.operator == "<" for spec in bound.specifier), "uvicorn needs an upper bound"
    assert version("uvicorn") in bound.specifier
    assert list(inspect.signature(HttpToolsProtocol.connection_made).parameters) == ["self", "transport"]
    assert "self.loop = " in inspect.getsource(HttpToolsProtocol.__init__)  # what connection_made uses
