"""Forwarding to the services: pure ASGI, one pooled aiohttp session per service, bytes passed through.

``/api/v1/<service>/...`` goes to that service unchanged; anything else falls through to the
gateway's own routes. The bearer token is checked before forwarding (the rate limiter in front
has usually verified it already, cached per token), so a bad one costs the service nothing; the
service checks it again itself. A few reads are public information (:data:`PUBLIC_FORWARDED`):
those go through without a token (the anonymous per-IP rate limit still applies); with one, it
is checked as always.

The hot path talks to the pool's aiohttp sessions directly, not through httpx (:mod:`.pool`
says why).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from yarl import URL

from doorstep_shared.auth.tokens import TokenVerifier
from doorstep_shared.http.errors import Unauthorized, problem_response

from .pool import Upstreams

logger = logging.getLogger("doorstep.gateway.upstream")


@dataclass(frozen=True, slots=True)
class ForwardedRoute:
    """The route a forwarded request is counted under in the metrics (``/api/v1/catalog/*``):
    one label per upstream service, never the raw path (bounded label cardinality)."""

    path: str


_FORWARDED_ROUTES: dict[str, ForwardedRoute] = {}


def _forwarded_route(service: str) -> ForwardedRoute:
    route = _FORWARDED_ROUTES.get(service)
    if route is None:
        route = _FORWARDED_ROUTES[service] = ForwardedRoute(f"/api/v1/{service}/*")
    return route


HOP_BY_HOP = frozenset(
    {
        b"connection",
        b"keep-alive",
        b"proxy-authenticate",
        b"proxy-authorization",
        b"te",
        b"trailer",
        b"trailers",
        b"transfer-encoding",
        b"upgrade",
        b"host",
        b"content-length",
        b"x-request-id",
    }
)
_RESPONSE_SKIP = frozenset({b"connection", b"keep-alive", b"transfer-encoding", b"x-request-id", b"server", b"date"})
# GET paths a resident may open without a token: the sheet of a published item (the catalog
# answers 404 for any other). Each is also on the public list of tests/test_route_permissions.py.
PUBLIC_FORWARDED = (re.compile(r"/api/v1/catalog/items/[a-z0-9][a-z0-9-]{0,63}/sheet"),)
# Retried once on a fresh connection when a kept-alive one turns out closed (no answer yet).
_IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
# Answers up to this size (with a Content-Length) are read whole and sent in one ASGI message.
_BUFFER_LIMIT = 256 * 1024
_STREAM_CHUNK = 64 * 1024


class UpstreamRouter:
    def __init__(
        self,
        app: ASGIApp,
        *,
        upstreams: Upstreams,
        verifier_of: Callable[[], TokenVerifier],
        max_body_bytes: int,
    ) -> None:
        self.app = app
        self.upstreams = upstreams
        self.verifier_of = verifier_of
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/api/v1/"):
            await self.app(scope, receive, send)
            return
        service = scope["path"][8:].split("/", 1)[0]
        session = self.upstreams.sessions.get(service)
        if session is None:
            await self.app(scope, receive, send)
            return
        # what the metrics middleware labels the request with: one route per upstream service
        scope["route"] = _forwarded_route(service)
        await self.forward(service, session, scope, receive, send)

    async def forward(
        self,
        service: str,
        session: aiohttp.ClientSession,
        scope: Scope,
        receive: Receive,
        send: Send,
    ) -> None:
        headers: list[tuple[str, str]] = []
        authorization = None
        content_length = 0
        for name, value in scope["headers"]:
            if name == b"authorization":
                authorization = value
            elif name == b"content-length":
                content_length = int(value) if value.isdigit() else 0
            if name not in HOP_BY_HOP:
                headers.append((name.decode("latin-1"), value.decode("latin-1")))

        problem = None
        if authorization is not None or not is_public(scope):
            problem = await self._authenticate(authorization, scope.get("state"))
        if problem is not None:
            await problem(scope, receive, send)
            return
        if content_length > self.max_body_bytes:
            await _too_large(self.max_body_bytes)(scope, receive, send)
            return
        body = await _read_body(receive, self.max_body_bytes)
        if body is None:
            await _too_large(self.max_body_bytes)(scope, receive, send)
            return

        request_id = scope.get("state", {}).get("request_id")
        if request_id:
            headers.append(("x-request-id", request_id))
        client_addr = scope.get("client")
        if client_addr:
            headers.append(("x-forwarded-for", client_addr[0]))
        headers.append(("x-forwarded-proto", scope.get("scheme", "http")))

        breaker = self.upstreams.breakers[service]
        if not breaker.allow():
            await _unavailable(service, "is not answering (circuit open)", "暂停转发（熔断中）")(scope, receive, send)
            return
        target = (scope.get("raw_path") or scope["path"].encode()).decode("latin-1")
        if scope.get("query_string"):
            target += "?" + scope["query_string"].decode("latin-1")
        # encoded=True: the path and query go out exactly as they came in (no re-quoting).
        url = URL(self.upstreams.bases[service] + target, encoded=True)
        method: str = scope["method"]
        try:
            response = await self._send(session, method, url, headers, body)
        except (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError) as exc:
            breaker.failure()
            logger.warning("upstream %s unreachable: %s", service, type(exc).__name__)
            await _unavailable(service, "is unavailable", "暂时不可用")(scope, receive, send)
            return
        except (aiohttp.ServerTimeoutError, TimeoutError):
            logger.warning("upstream %s timed out", service)
            await problem_response(
                504,
                "upstream_timeout",
                f"The {service} service did not answer in time.",
                detail_zh=f"{service} 服务未能及时应答。",
            )(scope, receive, send)
            return
        except aiohttp.ClientError as exc:
            breaker.failure()
            logger.warning("upstream %s failed: %s", service, type(exc).__name__)
            await _failed(service)(scope, receive, send)
            return
        breaker.success()
        try:
            await self._relay(response, send)
        except _BrokenOff as exc:
            logger.warning("upstream %s broke off its answer: %s", service, type(exc.__cause__).__name__)
            if not exc.started:  # nothing of the answer sent yet: say so, rather than no answer (a 500)
                breaker.failure()
                await _failed(service)(scope, receive, send)
        finally:
            response.release()

    async def _send(
        self,
        session: aiohttp.ClientSession,
        method: str,
        url: URL,
        headers: list[tuple[str, str]],
        body: bytes,
    ) -> aiohttp.ClientResponse:
        data = body or None
        try:
            return await session.request(method, url, headers=headers, data=data, allow_redirects=False)
        except (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError) as exc:
            # A kept-alive connection closed under us before any answer: try a fresh one once.
            if method not in _IDEMPOTENT or isinstance(exc, aiohttp.ClientConnectorError):
                raise
            return await session.request(method, url, headers=headers, data=data, allow_redirects=False)

    @staticmethod
    async def _relay(response: aiohttp.ClientResponse, send: Send) -> None:
        """The upstream's answer, sent on; ``_BrokenOff`` if the upstream stopped sending it (a
        service that died between its headers and its body), saying whether any of it was sent."""
        out_headers = [(name, v) for k, v in response.raw_headers if (name := k.lower()) not in _RESPONSE_SKIP]
        length = response.content_length
        started = False
        try:
            if length is not None and length <= _BUFFER_LIMIT:
                body = await response.read()
                started = True
                await send({"type": "http.response.start", "status": response.status, "headers": out_headers})
                await send({"type": "http.response.body", "body": body, "more_body": False})
                return
            started = True
            await send({"type": "http.response.start", "status": response.status, "headers": out_headers})
            async for chunk in response.content.iter_chunked(_STREAM_CHUNK):
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise _BrokenOff(started) from exc

    async def _authenticate(self, authorization: bytes | None, state: dict[str, Any] | None) -> Response | None:
        """401 unless the bearer token is valid; the rate limiter in front usually checked it
        already and left its verdict in the request state."""
        if authorization is None or authorization[:7].lower() != b"bearer ":
            return problem_response(
                401,
                "missing_token",
                "A bearer token is required.",
                headers={"WWW-Authenticate": "Bearer"},
            )
        if state is not None and "principal" in state:
            return None
        error: Unauthorized | None = state.get("token_error") if state is not None else None
        if error is None:
            verifier: TokenVerifier = self.verifier_of()
            try:
                await verifier.verify(authorization[7:].decode("latin-1").strip())
                return None
            except Unauthorized as exc:
                error = exc
        return problem_response(401, error.code, error.detail, headers=error.headers)


def is_public(scope: Scope) -> bool:
    """Whether this request may be forwarded without a token."""
    return scope["method"] == "GET" and any(p.fullmatch(scope["path"]) for p in PUBLIC_FORWARDED)


async def _read_body(receive: Receive, limit: int) -> bytes | None:
    message: Message = await receive()
    if message["type"] == "http.disconnect":
        return b""
    body: bytes = message.get("body", b"")
    if not message.get("more_body", False):
        return body if len(body) <= limit else None
    chunks = [body]
    size = len(body)
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return b""
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def _too_large(limit: int) -> Response:
    return problem_response(
        413, "payload_too_large", f"The request body exceeds {limit} bytes.", detail_zh=f"请求内容超过 {limit} 字节。"
    )


def _unavailable(service: str, what: str, what_zh: str) -> Response:
    return problem_response(
        503,
        "upstream_unavailable",
        f"The {service} service {what}; retry shortly.",
        detail_zh=f"{service} 服务{what_zh}，请稍后重试。",
        headers={"Retry-After": "2"},
    )


def _failed(service: str) -> Response:
    return problem_response(
        502,
        "upstream_error",
        f"The {service} service failed to answer.",
        detail_zh=f"{service} 服务未能正常应答。",
    )


class _BrokenOff(Exception):
    """The upstream stopped sending its answer; ``started``: the caller already has part of it."""

    def __init__(self, started: bool) -> None:
        super().__init__("the upstream broke off its answer")
        self.started = started
