"""The gateway's merged document fetches each service's /openapi.json; a connection that broke
under it (a kept-alive connection to a process that has since restarted) is retried once."""

from __future__ import annotations

import httpx

from doorstep_gateway.docs.merge import MergedOpenAPI

DOC = {"openapi": "3.1.0", "info": {"title": "catalog", "version": "1"}, "paths": {}}


def _client(failures: list[Exception]) -> tuple[httpx.AsyncClient, list[str]]:
    seen: list[str] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        if failures:
            raise failures.pop(0)
        return httpx.Response(200, json=DOC)

    return httpx.AsyncClient(transport=httpx.MockTransport(handle), base_url="http://catalog"), seen


async def test_a_broken_connection_is_retried_once_on_a_fresh_one() -> None:
    client, seen = _client([httpx.RemoteProtocolError("Server disconnected")])
    async with client:
        doc = await MergedOpenAPI()._fetch("catalog", client)
    assert doc == DOC and seen == ["/openapi.json", "/openapi.json"]


async def test_a_timeout_is_not_retried_and_a_second_failure_gives_up() -> None:
    client, seen = _client([httpx.ReadTimeout("slow")])
    async with client:
        assert await MergedOpenAPI()._fetch("catalog", client) is None
    assert seen == ["/openapi.json"]
    client, seen = _client([httpx.ConnectError("refused"), httpx.ConnectError("refused")])
    async with client:
        assert await MergedOpenAPI()._fetch("catalog", client) is None
    assert len(seen) == 2
