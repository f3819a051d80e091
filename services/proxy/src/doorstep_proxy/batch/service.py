"""Runs a batch: each operation goes through the proxy's own ASGI app, in order, as if sent alone.

Why in-process dispatch rather than calling service functions: "exactly as if sent alone" then
holds by construction. Each operation is a real request of the app — the request middleware
(language, request id, metrics), the IdempotencyMiddleware (keys, replays, fingerprints), the
route's permission dependency, the community scoping, If-Match checks and the route's own
session and commit all apply unchanged; nothing here re-implements a rule.

Why no ``atomic``: every operation commits its own transaction (the session dependency commits
once per request), the IdempotencyMiddleware commits its claim *before* the handler runs and the
response after (on purpose, in its own short transactions, so concurrent duplicates see the
claim), and writes publish events and outbox rows inside their transaction. A batch-wide
rollback would need one connection shared by every sub-request, savepoints per operation, and
idempotency records that roll back with them — a different session model for the whole app.
Stopping at the first failure is not a rollback either, so ``atomic: true`` is refused (422
``atomic_unsupported``) rather than faked.
"""

from __future__ import annotations

import asyncio
import json
import posixpath
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote, unquote

from starlette.types import ASGIApp, Message, Scope

from doorstep_shared.http.errors import Invalid

from .schemas import BatchRequest, Operation, OperationResult

PREFIX = "/api/v1/proxy/"
BATCH_PATH = "/api/v1/proxy/batch"
SIZE_HEADER = "Doorstep-Batch-Size"
MAX_BODY_BYTES = 64 * 1024  # per operation; the largest single write of the proxy is far below
# Headers of the batch request every operation inherits (who asks, in which language, which trace).
_INHERITED = frozenset({b"authorization", b"accept-language", b"user-agent", b"x-forwarded-for", b"x-forwarded-proto"})
_QUERY_SAFE = "!$&'()*+,/:;=?@[]~%"


def check(batch: BatchRequest, declared_size: str | None, batch_key: str | None) -> list[tuple[str, str, bytes]]:
    """Validates the whole batch before anything runs: (path, query, body) per operation."""
    if batch_key is not None:
        # The batch is outside the idempotency store: its answer may hold an operation's secret
        # (a webhook subscription's), which is never stored. Ignoring the key would mislead.
        raise Invalid.field("header.Idempotency-Key", "put Idempotency-Key on each operation, not on the batch")
    if batch.atomic:
        raise Invalid.field(
            "body.atomic",
            "all-or-nothing batches are not supported: each operation commits on its own",
            code="atomic_unsupported",
        )
    if declared_size is None or declared_size.strip() != str(len(batch.operations)):
        raise Invalid.field(
            f"header.{SIZE_HEADER}",
            f"must equal the number of operations ({len(batch.operations)}); the gateway counts it",
            code="batch_size_mismatch",
        )
    return [_check_one(i, op) for i, op in enumerate(batch.operations)]


def _check_one(i: int, op: Operation) -> tuple[str, str, bytes]:
    raw_path, _, query = op.path.partition("?")
    path = unquote(raw_path)
    where = f"body.operations[{i}]"
    if (
        not path.startswith(PREFIX)
        or posixpath.normpath(path) != path.rstrip("/")
        or "#" in op.path
        or any(ord(ch) < 33 for ch in op.path)
    ):
        raise Invalid.field(f"{where}.path", f"must be a plain path under {PREFIX}")
    if path.rstrip("/") == BATCH_PATH:
        raise Invalid.field(f"{where}.path", "a batch cannot contain a batch")
    if op.body is None:
        body = b""
    else:
        if op.method in ("GET", "DELETE"):
            raise Invalid.field(f"{where}.body", f"{op.method} takes no body")
        body = json.dumps(op.body, ensure_ascii=False, separators=(",", ":")).encode()
        if len(body) > MAX_BODY_BYTES:
            raise Invalid.field(f"{where}.body", f"at most {MAX_BODY_BYTES} bytes")
    return path, query, body


async def run(
    app: ASGIApp, outer: Scope, batch: BatchRequest, checked: Sequence[tuple[str, str, bytes]]
) -> list[OperationResult]:
    """Every operation in order; a failing one does not stop or undo the others."""
    inherited = [(k, v) for k, v in outer["headers"] if k in _INHERITED]
    request_id = (outer.get("state") or {}).get("request_id")
    results = []
    for i, (op, (path, query, body)) in enumerate(zip(batch.operations, checked, strict=True)):
        headers = list(inherited)
        if request_id:
            headers.append((b"x-request-id", f"{request_id}.{i + 1}".encode("latin-1")))
        for name, value in op.headers.model_dump(by_alias=True, exclude_none=True).items():
            headers.append((name.lower().encode("latin-1"), str(value).encode("latin-1", "replace")))
        if body:
            headers += [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        scope: Scope = {
            "type": "http",
            "asgi": outer.get("asgi", {"version": "3.0"}),
            "http_version": outer.get("http_version", "1.1"),
            "scheme": outer.get("scheme", "http"),
            "server": outer.get("server"),
            "client": outer.get("client"),
            "root_path": outer.get("root_path", ""),
            "method": op.method,
            "path": path,
            "raw_path": quote(path).encode("latin-1"),
            # As a client would send it: escapes kept, anything beyond ASCII percent-encoded (UTF-8).
            "query_string": quote(query, safe=_QUERY_SAFE).encode("ascii"),
            "headers": headers,
            "state": {},
        }
        results.append(await _dispatch(app, scope, body))
    return results


async def _dispatch(app: ASGIApp, scope: Scope, body: bytes) -> OperationResult:
    pending = [body]
    finished = asyncio.Event()
    status = 500
    response_headers: dict[str, str] = {}
    chunks: list[bytes] = []

    async def receive() -> Message:
        if pending:
            return {"type": "http.request", "body": pending.pop(), "more_body": False}
        await finished.wait()  # like a client that stays connected until the answer is complete
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = int(message["status"])
            for name, value in message.get("headers", ()):
                response_headers[name.decode("latin-1").lower()] = value.decode("latin-1")
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    try:
        await app(scope, receive, send)
    except Exception:  # the app already answered 500 (and logged it); that is this operation's result
        status = 500
    finally:
        finished.set()
    return OperationResult(
        status=status,
        etag=response_headers.get("etag"),
        location=response_headers.get("location"),
        replayed=response_headers.get("idempotent-replayed") == "true",
        body=_decode(b"".join(chunks), response_headers.get("content-type", "")),
    )


def _decode(raw: bytes, content_type: str) -> Any:
    if not raw:
        return None
    if "json" in content_type:
        try:
            return json.loads(raw)
        except ValueError:
            pass
    return raw.decode("utf-8", "replace")
