"""Forwarding to the services: pure ASGI, one pooled client per service, bodies passed through.

``/api/v1/<service>/...`` goes to that service unchanged; anything else falls through to the
gateway's own routes. The bearer token is checked here first (cached per token), so a bad one
costs the service nothing; the service checks it again itself.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from doorstep_shared.errors import Unauthorized, problem_response
from doorstep_shared.tokens import TokenVerifier

logger = logging.getLogger("doorstep.gateway.upstream")

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
    }
)


@dataclass
class Breaker:
    """Stops hammering a dead service: after ``threshold`` failed connects, fail fast for ``cooldown``."""

    threshold: int = 5
    cooldown: float = 5.0
    failures: int = 0
    open_until: float = 0.0

    def allow(self) -> bool:
        return time.monotonic() >= self.open_until

    def success(self) -> None:
        self.failures = 0
        self.open_until = 0.0

    def failure(self) -> None:
        self.failures += 1
        if self.failures >= self.threshold:
            self.open_until = time.monotonic() + self.cooldown


@dataclass
class Upstreams:
    """The services' clients, opened in the gateway's lifespan."""

    urls: dict[str, str]
    connect_timeout: float = 1.0
    read_timeout: float = 15.0
    max_connections: int = 200
    clients: dict[str, httpx.AsyncClient] = field(default_factory=dict)
    breakers: dict[str, Breaker] = field(default_factory=dict)

    def open(self) -> None:
        timeout = httpx.Timeout(
            self.read_timeout, connect=self.connect_timeout, pool=self.connect_timeout
        )
        limits = httpx.Limits(
            max_connections=self.max_connections, max_keepalive_connections=self.max_connections
        )
        for name, url in self.urls.items():
            self.clients[name] = httpx.AsyncClient(
                base_url=url, timeout=timeout, limits=limits, follow_redirects=False
            )
            self.breakers[name] = Breaker()

    async def close(self) -> None:
        for client in self.clients.values():
            await client.aclose()
        self.clients.clear()


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
        client = self.upstreams.clients.get(service)
        if client is None:
            await self.app(scope, receive, send)
            return
        await self.forward(service, client, scope, receive, send)

    async def forward(
        self, service: str, client: httpx.AsyncClient, scope: Scope, receive: Receive, send: Send
    ) -> None:
        headers: list[tuple[bytes, bytes]] = []
        authorization = None
        content_length = 0
        for name, value in scope["headers"]:
            if name == b"authorization":
                authorization = value
            elif name == b"content-length":
                content_length = int(value) if value.isdigit() else 0
            if name not in HOP_BY_HOP and name != b"x-request-id":
                headers.append((name, value))

        problem = await self._authenticate(authorization)
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
            headers.append((b"x-request-id", request_id.encode("latin-1")))
        client_addr = scope.get("client")
        if client_addr:
            headers.append((b"x-forwarded-for", client_addr[0].encode("latin-1")))
        headers.append((b"x-forwarded-proto", scope.get("scheme", "http").encode("latin-1")))

        breaker = self.upstreams.breakers[service]
        if not breaker.allow():
            await _unavailable(service, "is not answering (circuit open)")(scope, receive, send)
            return
        target = scope.get("raw_path") or scope["path"].encode()
        if scope.get("query_string"):
            target = target + b"?" + scope["query_string"]
        request = client.build_request(
            scope["method"], target.decode("latin-1"), headers=headers, content=body
        )
        try:
            response = await client.send(request, stream=True)
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            breaker.failure()
            logger.warning("upstream %s unreachable: %s", service, type(exc).__name__)
            await _unavailable(service, "is unavailable")(scope, receive, send)
            return
        except httpx.TimeoutException:
            logger.warning("upstream %s timed out", service)
            await problem_response(
                504, "upstream_timeout", f"The {service} service did not answer in time."
            )(scope, receive, send)
            return
        except httpx.TransportError as exc:
            breaker.failure()
            logger.warning("upstream %s failed: %s", service, type(exc).__name__)
            await problem_response(
                502, "upstream_error", f"The {service} service failed to answer."
            )(scope, receive, send)
            return
        breaker.success()
        try:
            out_headers = [
                (k.lower(), v) for k, v in response.headers.raw if k.lower() not in _RESPONSE_SKIP
            ]
            await send(
                {
                    "type": "http.response.start",
                    "status": response.status_code,
                    "headers": out_headers,
                }
            )
            async for chunk in response.aiter_raw():
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        except httpx.TransportError:
            logger.warning("upstream %s broke off its answer", service)
        finally:
            await response.aclose()

    async def _authenticate(self, authorization: bytes | None) -> Response | None:
        if authorization is None or authorization[:7].lower() != b"bearer ":
            return problem_response(
                401,
                "missing_token",
                "A bearer token is required.",
                headers={"WWW-Authenticate": "Bearer"},
            )
        verifier: TokenVerifier = self.verifier_of()
        try:
            await verifier.verify(authorization[7:].decode("latin-1").strip())
        except Unauthorized as exc:
            return problem_response(401, exc.code, exc.detail, headers=exc.headers)
        return None


_RESPONSE_SKIP = frozenset(
    {b"connection", b"keep-alive", b"transfer-encoding", b"x-request-id", b"server", b"date"}
)


async def _read_body(receive: Receive, limit: int) -> bytes | None:
    chunks: list[bytes] = []
    size = 0
    more = True
    while more:
        message: Message = await receive()
        if message["type"] == "http.disconnect":
            return b""
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        more = message.get("more_body", False)
    return b"".join(chunks)


def _too_large(limit: int) -> Response:
    return problem_response(413, "payload_too_large", f"The request body exceeds {limit} bytes.")


def _unavailable(service: str, what: str) -> Response:
    return problem_response(
        503,
        "upstream_unavailable",
        f"The {service} service {what}; retry shortly.",
        headers={"Retry-After": "2"},
    )
