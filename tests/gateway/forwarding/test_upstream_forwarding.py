"""The forwarding path against a real HTTP service on loopback (an aiohttp server in this loop)."""

from __future__ import annotations

import asyncio
import gzip
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
from aiohttp import web
from starlette.responses import PlainTextResponse
from starlette.types import Receive, Scope, Send

from doorstep_gateway.forwarding.forwarder import UpstreamRouter
from doorstep_gateway.forwarding.pool import Upstreams
from doorstep_shared.auth.tokens import TokenVerifier
from doorstep_shared.http.compression import Compression

from ...support import AUDIENCE, ISSUER, Tokens

BIG = bytes(range(256)) * 4096  # 1 MiB: streamed, not buffered
LIST = json.dumps({"items": [{"code": f"item-{i}", "name": "高龄津贴"} for i in range(300)]}).encode()


@dataclass
class Upstream:
    url: str
    seen: list[web.Request]


async def _echo(request: web.Request) -> web.StreamResponse:
    body = await request.read()
    return web.json_response(
        {
            "method": request.method,
            "raw_path": request.raw_path,
            "body": body.decode("latin-1"),
            "headers": {k.lower(): v for k, v in request.headers.items()},
        },
        headers={"ETag": '"v7"', "X-Request-ID": "from-the-service"},
        status=201 if request.method == "POST" else 200,
    )


async def _big(request: web.Request) -> web.StreamResponse:
    response = web.StreamResponse(headers={"Content-Type": "application/octet-stream"})
    await response.prepare(request)
    for start in range(0, len(BIG), 100_000):
        await response.write(BIG[start : start + 100_000])
    await response.write_eof()
    return response


async def _list(request: web.Request) -> web.Response:
    """A service that compresses as ours do: gzip when accepted, its ETag then weak."""
    if "gzip" in request.headers.get("Accept-Encoding", ""):
        headers = {"Content-Encoding": "gzip", "ETag": 'W/"v7"', "Vary": "Accept-Encoding"}
        return web.Response(body=gzip.compress(LIST), headers=headers, content_type="application/json")
    return web.Response(body=LIST, headers={"ETag": '"v7"'}, content_type="application/json")


async def _slow(request: web.Request) -> web.Response:
    await asyncio.sleep(2)
    return web.Response(text="late")


async def _close(request: web.Request) -> web.Response:
    return web.Response(text="bye", headers={"Connection": "close"})


@pytest.fixture
async def upstream() -> AsyncIterator[Upstream]:
    seen: list[web.Request] = []

    @web.middleware
    async def record(request: web.Request, handler: object) -> web.StreamResponse:
        seen.append(request)
        return await handler(request)  # type: ignore[operator]

    app = web.Application(middlewares=[record])
    app.router.add_route("*", "/api/v1/catalog/big", _big)
    app.router.add_route("*", "/api/v1/catalog/slow", _slow)
    app.router.add_route("*", "/api/v1/catalog/list", _list)
    app.router.add_route("*", "/api/v1/catalog/close", _close)
    app.router.add_route("*", "/api/v1/catalog/{tail:.*}", _echo)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield Upstream(f"http://127.0.0.1:{port}/", seen)
    finally:
        await runner.cleanup()


async def _fallback(scope: Scope, receive: Receive, send: Send) -> None:
    await PlainTextResponse("gateway's own route")(scope, receive, send)


@pytest.fixture
async def gateway(upstream: Upstream, tokens: Tokens) -> AsyncIterator[httpx.AsyncClient]:
    upstreams = Upstreams(urls={"catalog": upstream.url, "proxy": "http://127.0.0.1:9"}, read_timeout=0.5)
    upstreams.open()
    verifier = TokenVerifier(tokens.key_set(), issuer=ISSUER, audience=AUDIENCE)
    router = UpstreamRouter(_fallback, upstreams=upstreams, verifier_of=lambda: verifier, max_body_bytes=4096)
    transport = httpx.ASGITransport(app=router, client=("10.1.2.3", 5000))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://gw") as client:
            client.upstreams = upstreams  # type: ignore[attr-defined]
            yield client
    finally:
        await upstreams.close()


async def test_path_query_headers_and_body_reach_the_service_unchanged(
    gateway: httpx.AsyncClient, tokens: Tokens
) -> None:
    auth = tokens.headers()
    request = gateway.build_request(
        "POST",
        "/api/v1/catalog/items/%E9%AB%98%E9%BE%84?q=a%20b&x=1",
        headers={**auth, "If-Match": '"v6"', "Content-Type": "application/json", "Accept-Language": "en"},
        content=b'{"name":"x"}',
    )
    del request.headers["accept-encoding"]
    resp = await gateway.send(request)
    assert resp.status_code == 201
    assert resp.headers["etag"] == '"v7"'
    seen = resp.json()
    assert seen["method"] == "POST"
    assert seen["raw_path"] == "/api/v1/catalog/items/%E9%AB%98%E9%BE%84?q=a%20b&x=1"
    assert seen["body"] == '{"name":"x"}'
    headers = seen["headers"]
    assert headers["authorization"] == auth["Authorization"]
    assert headers["if-match"] == '"v6"'
    assert headers["accept-language"] == "en"  # the service answers its problems in it
    assert headers["content-type"] == "application/json"
    assert headers["x-forwarded-for"] == "10.1.2.3"
    assert "accept-encoding" not in headers  # no compression the client did not ask for
    assert headers["user-agent"].startswith("python-httpx")  # the client's own, passed on


async def test_the_gateway_request_id_goes_upstream_and_is_not_overridden_by_the_service(
    gateway: httpx.AsyncClient, tokens: Tokens
) -> None:
    from doorstep_shared.http.observability import RequestContextMiddleware

    app = RequestContextMiddleware(gateway._transport.app)  # type: ignore[attr-defined]
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gw") as client:
        resp = await client.get("/api/v1/catalog/x", headers={**tokens.headers(), "X-Request-ID": "req-42"})
    assert resp.json()["headers"]["x-request-id"] == "req-42"
    assert resp.headers["x-request-id"] == "req-42"


async def test_a_large_answer_is_streamed_through_intact(gateway: httpx.AsyncClient, tokens: Tokens) -> None:
    resp = await gateway.get("/api/v1/catalog/big", headers=tokens.headers())
    assert resp.status_code == 200
    assert resp.content == BIG


async def test_a_slow_service_gets_504_after_the_read_timeout(gateway: httpx.AsyncClient, tokens: Tokens) -> None:
    loop = asyncio.get_running_loop()
    started = loop.time()
    resp = await gateway.get("/api/v1/catalog/slow", headers=tokens.headers())
    assert resp.status_code == 504
    assert resp.json()["code"] == "upstream_timeout"
    assert loop.time() - started < 1.5


async def test_a_dead_service_is_503_and_others_and_own_routes_are_unaffected(
    gateway: httpx.AsyncClient, tokens: Tokens
) -> None:
    dead = await gateway.get("/api/v1/proxy/demands", headers=tokens.headers())
    assert dead.status_code == 503 and dead.json()["code"] == "upstream_unavailable"
    alive = await gateway.get("/api/v1/catalog/ok", headers=tokens.headers())
    assert alive.status_code == 200
    own = await gateway.get("/api/v1/auth/me")
    assert own.text == "gateway's own route"


async def test_a_connection_closed_by_the_service_is_replaced_transparently(
    gateway: httpx.AsyncClient, tokens: Tokens
) -> None:
    auth = tokens.headers()
    for _ in range(3):
        assert (await gateway.get("/api/v1/catalog/close", headers=auth)).text == "bye"
        assert (await gateway.get("/api/v1/catalog/after", headers=auth)).status_code == 200


async def test_concurrent_requests_share_the_pool(
    gateway: httpx.AsyncClient, tokens: Tokens, upstream: Upstream
) -> None:
    auth = tokens.headers()
    answers = await asyncio.gather(*(gateway.get(f"/api/v1/catalog/n/{i}", headers=auth) for i in range(40)))
    assert [a.json()["raw_path"] for a in answers] == [f"/api/v1/catalog/n/{i}" for i in range(40)]


async def test_the_httpx_clients_share_the_forwarding_pool(gateway: httpx.AsyncClient, upstream: Upstream) -> None:
    upstreams: Upstreams = gateway.upstreams  # type: ignore[attr-defined]
    resp = await upstreams.clients["catalog"].get("/api/v1/catalog/openapi.json")
    assert resp.status_code == 200
    assert resp.json()["raw_path"] == "/api/v1/catalog/openapi.json"


async def test_a_body_over_the_limit_is_413_without_reaching_the_service(
    gateway: httpx.AsyncClient, tokens: Tokens, upstream: Upstream
) -> None:
    resp = await gateway.post("/api/v1/catalog/x", headers=tokens.headers(), content=b"x" * 5000)
    assert resp.status_code == 413
    assert upstream.seen == []


async def test_without_the_rate_limiter_in_front_the_router_checks_the_token_itself(
    gateway: httpx.AsyncClient, upstream: Upstream
) -> None:
    resp = await gateway.get("/api/v1/catalog/items", headers={"Authorization": "Bearer not.a.jwt"})
    assert resp.status_code == 401 and resp.json()["code"] == "invalid_token"
    assert not upstream.seen


@pytest.mark.parametrize("accept", ["gzip", "zstd, br, gzip", "identity"])
async def test_a_compressed_answer_passes_the_gateway_as_the_service_encoded_it(
    gateway: httpx.AsyncClient, tokens: Tokens, accept: str
) -> None:
    """The gateway's compressor in front of its forwarder: the service's gzip stays gzip (not
    decoded, not encoded again in the client's better codec); a plain answer the client did
    not want compressed stays plain."""
    app = Compression(gateway._transport.app)  # type: ignore[attr-defined]
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw") as client:
        resp = await client.get("/api/v1/catalog/list", headers={**tokens.headers(), "Accept-Encoding": accept})
    assert resp.status_code == 200
    assert resp.content == LIST  # decoded once by the client: the JSON itself
    if accept == "identity":
        assert "content-encoding" not in resp.headers and resp.headers["etag"] == '"v7"'
        assert resp.num_bytes_downloaded == len(LIST)
    else:
        assert resp.headers["content-encoding"] == "gzip" and resp.headers["etag"] == 'W/"v7"'
        assert resp.num_bytes_downloaded == len(gzip.compress(LIST))
