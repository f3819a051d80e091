"""Request ids, JSON logs and Prometheus metrics: pure ASGI, cheap on the hot path."""

from __future__ import annotations

import contextvars
import itertools
import logging
import os
import re
import sys
import time
from collections.abc import Callable
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from pythonjsonlogger.json import JsonFormatter
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..pii import redact_text
from .messages import language_var, negotiate
from .pagination import cursor_key_var

REQUEST_ID_HEADER = "x-request-id"
request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)

_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


# An API key sent as a query or form parameter (GeoReport v2's ``api_key``), and a gateway API
# key anywhere (``dsk.<lookup id>.<secret>``, issued by the gateway's client registry): the lookup id
# stays readable, the secret never reaches a log line (an access log prints the query string).
_KEY_PARAMETER = re.compile(r"(?i)(api_?key(?:%3D|=|\\?[\"']?\s*:\s*\\?[\"']))[^&\s\"'\\]+")
_GATEWAY_KEY = re.compile(r"(dsk\.[0-9a-f]{1,32}\.)[A-Za-z0-9_-]+")
KEY_MASK = "[redacted]"


def redact(text: str) -> str:
    """Phone and ID numbers masked, however they are spelled (``doorstep_shared.pii.redact_text``),
    and API keys masked."""
    if "dsk." in text:
        text = _GATEWAY_KEY.sub(rf"\1{KEY_MASK}", text)
    text = _KEY_PARAMETER.sub(rf"\1{KEY_MASK}", text)
    return redact_text(text)


class RedactingJsonFormatter(JsonFormatter):
    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


class RedactingFormatter(logging.Formatter):
    """The plain-text log format (``log_json=false``) masks the same numbers the JSON one does."""

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        return True


def configure_logging(service: str, level: str = "INFO", json_lines: bool = True) -> None:
    handler = logging.StreamHandler(sys.stderr)
    if json_lines:
        handler.setFormatter(
            RedactingJsonFormatter(
                "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
                rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
                static_fields={"service": service},
            )
        )
    else:
        handler.setFormatter(
            RedactingFormatter(f"%(asctime)s {service} %(levelname)s %(name)s [%(request_id)s] %(message)s")
        )
    handler.addFilter(RequestIdFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # uvicorn's access lines (the request middleware logs requests itself); httpx's line per
    # request, which the directory and roster polls would write every two seconds per service.
    for noisy in ("uvicorn.access", "httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


SECURITY_HEADERS = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-resource-policy", b"same-origin"),
)


class _RequestIds:
    """32 hex digits: a random prefix per process, then a counter.

    ``uuid4()`` reads the OS's randomness (a system call) on every request; ids only need to be
    unique, not unguessable. A forked child draws its own prefix.
    """

    def __init__(self) -> None:
        self.reseed()

    def reseed(self) -> None:
        self.prefix = os.urandom(10).hex()
        self.counter = itertools.count()

    def __call__(self) -> str:
        return f"{self.prefix}{next(self.counter) & 0xFFFFFFFFFFFF:012x}"


new_request_id = _RequestIds()
os.register_at_fork(after_in_child=new_request_id.reseed)


class RequestContextMiddleware:
    """Takes or creates ``X-Request-ID``, exposes it to logs, returns it; negotiates the language
    of error messages (``Accept-Language``); records metrics."""

    def __init__(
        self,
        app: ASGIApp,
        metrics: Metrics | None = None,
        *,
        hsts: bool = False,
        cursor_key: Callable[[], bytes] | None = None,
    ) -> None:
        self.app = app
        self.metrics = metrics
        self.cursor_key = cursor_key
        self.security_headers = list(SECURITY_HEADERS)
        if hsts:
            self.security_headers.append((b"strict-transport-security", b"max-age=31536000; includeSubDomains"))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = None
        accept_language = None
        for name, value in scope["headers"]:
            if name == b"x-request-id":
                candidate = value.decode("latin-1")
                if _VALID_REQUEST_ID.match(candidate):
                    request_id = candidate
            elif name == b"accept-language":
                accept_language = value.decode("latin-1")
        # The language of the answer's messages (problem+json), for everything below.
        language_token = language_var.set(negotiate(accept_language))
        if request_id is None:
            request_id = new_request_id()
        scope.setdefault("state", {})["request_id"] = request_id
        token = request_id_var.set(request_id)
        # The app's own cursor key for this request (apps sharing a process must not share one).
        key_token = cursor_key_var.set(self.cursor_key()) if self.cursor_key is not None else None
        raw_id = request_id.encode("latin-1")
        status_holder = [500]
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_holder[0] = message["status"]
                headers = [(b"x-request-id", raw_id)]
                present = set()
                for name, value in message.get("headers", ()):
                    if name != b"x-request-id":
                        headers.append((name, value))
                        present.add(name.lower())
                headers.extend(h for h in self.security_headers if h[0] not in present)
                if b"cache-control" not in present:
                    # Responses may carry personal data: shared phones must not keep them.
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            request_id_var.reset(token)
            language_var.reset(language_token)
            if key_token is not None:
                cursor_key_var.reset(key_token)
            if self.metrics is not None:
                route = scope.get("route")
                path = getattr(route, "path", None) or "unmatched"
                self.metrics.observe(scope["method"], path, status_holder[0], time.perf_counter() - started)


class Metrics:
    """Per-app Prometheus registry (apps built in one test process must not share one)."""

    def __init__(self, service: str) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "doorstep_http_requests_total",
            "HTTP requests",
            ["service", "method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "doorstep_http_request_duration_seconds",
            "HTTP request duration",
            ["service", "method", "route"],
            registry=self.registry,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
        )
        self.service = service
        self._children: dict[tuple[str, str, int], tuple[Any, Any]] = {}

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        # Label lookups cost microseconds on every request: keep the children per key.
        key = (method, route, status)
        children = self._children.get(key)
        if children is None:
            children = (
                self.requests.labels(self.service, method, route, str(status)),
                self.latency.labels(self.service, method, route),
            )
            self._children[key] = children
        children[0].inc()
        children[1].observe(seconds)

    def render(self) -> Response:
        return Response(generate_latest(self.registry), media_type=CONTENT_TYPE_LATEST)


def request_id_of(request: Request) -> str | None:
    rid: Any = getattr(request.state, "request_id", None)
    return rid if isinstance(rid, str) else request_id_var.get()
