"""``Idempotency-Key`` for unsafe requests: an offline phone may retry, nothing happens twice.

Any service can use it: put :func:`idempotency_table` into the service's MetaData (and its
migration) and add :class:`IdempotencyMiddleware` to the app (``create_service_app(...,
extra_middleware=[(IdempotencyMiddleware, {"table": table})])``).

Protocol (what a client sees):

- A request (``POST`` by default) carrying ``Idempotency-Key: <1–255 visible ASCII chars>`` is
  executed once per (key, caller). The caller is the token's subject, so a refreshed token keeps
  its keys; two callers never share a key.
- The same key again with the same request (method, path, query and body hash — the
  *fingerprint*) answers the first response again (status, body and headers such as ``ETag`` /
  ``Location``), with ``Idempotent-Replayed: true``.
- The same key with a different request → **422** ``idempotency_key_reused``. A JSON body is
  fingerprinted in a canonical form (keys sorted, no insignificant whitespace), so the same
  request sent alone or inside a proxy batch (which re-serialises it) is the same request;
  a fingerprint stored over the raw bytes (before this rule) still matches its retry.
- Concurrent duplicates: a unique constraint on (key, principal) lets exactly one claim the key
  and run. The others wait (polling, up to ``wait_seconds``) and then replay its response; if
  it is still running after that they get **409** ``idempotency_in_progress`` with
  ``Retry-After``. Only requests that reach the handler are recorded: a 5xx or 429 response
  (or a crash) releases the key, so the retry runs again.
- Keys expire after ``ttl`` (24 h): the record is purged and the key may be reused.
  :func:`purge_expired` deletes expired rows; the middleware also runs it now and then.

A claim is committed before the handler runs, and the response is stored after the handler's
own transaction committed. If the process dies in between, the claim stays "running" until
``stale_after`` and is then taken over (the request runs again); resources with client-generated
ids (cases and visits) stay single even then.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import json
import logging
import time
from collections.abc import Iterable
from typing import Any

from sqlalchemy import (
    Column,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    delete,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..clock import utcnow
from ..http.errors import problem_response
from ..http.openapi import declare_header, declare_response, operations
from .columns import JSONType, UTCDateTime

logger = logging.getLogger("doorstep.idempotency")

HEADER = "idempotency-key"
REPLAYED = "Idempotent-Replayed"
RUNNING = "running"
DONE = "done"
# Response headers not worth replaying: per-response plumbing, or recomputed.
_SKIP_HEADERS = frozenset({"content-length", "date", "server", "x-request-id", "set-cookie", "transfer-encoding"})


def idempotency_table(metadata: MetaData, name: str = "idempotency_key") -> Table:
    """The store of keys and first responses, in a service's own MetaData."""
    return Table(
        name,
        metadata,
        Column("key", String(255), nullable=False),
        Column("principal", String(128), nullable=False),
        Column("fingerprint", String(64), nullable=False),
        Column("method", String(8), nullable=False),
        Column("path", String(500), nullable=False),
        Column("state", String(8), nullable=False),
        Column("status_code", Integer(), nullable=True),
        Column("response_headers", JSONType, nullable=True),
        Column("response_body", LargeBinary(), nullable=True),
        Column("created_at", UTCDateTime(), nullable=False),
        Column("expires_at", UTCDateTime(), nullable=False, index=True),
        PrimaryKeyConstraint("key", "principal", name=f"pk_{name}"),
    )


def fingerprint(method: str, path: str, query: bytes, body: bytes) -> str:
    digest = hashlib.sha256()
    for part in (method.upper().encode(), path.encode(), query, hashlib.sha256(body).digest()):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


def canonical_json(body: bytes) -> bytes | None:
    """The body in one canonical JSON form, or None when it is not JSON."""
    if not body:
        return None
    try:
        parsed = json.loads(body)
    except ValueError:
        return None
    return json.dumps(parsed, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def valid_key(key: str) -> bool:
    return 1 <= len(key) <= 255 and all(33 <= ord(ch) <= 126 for ch in key)


async def purge_expired(session: AsyncSession, table: Table, now: dt.datetime | None = None) -> int:
    """Delete expired keys (the caller commits); returns how many."""
    result = await session.execute(delete(table).where(table.c.expires_at <= (now or utcnow())))
    return int(getattr(result, "rowcount", 0) or 0)


class _Captured:
    def __init__(self) -> None:
        self.status = 500
        self.headers: list[tuple[bytes, bytes]] = []
        self.body = bytearray()
        self.started = False


class IdempotencyMiddleware:
    """ASGI middleware applying the protocol above to requests with an ``Idempotency-Key``.

    It needs ``app.state.sessionmaker`` (its own short transactions, apart from the handler's)
    and ``app.state.verifier`` (to know the caller; an unauthenticated request passes through
    to be refused by the app as usual).
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        table: Table,
        methods: Iterable[str] = ("POST",),
        path_prefix: str = "/",
        exclude_prefixes: Iterable[str] = (),
        ttl: dt.timedelta = dt.timedelta(hours=24),
        wait_seconds: float = 10.0,
        stale_after: dt.timedelta = dt.timedelta(minutes=2),
        purge_every: float = 600.0,
    ) -> None:
        self.app = app
        self.table = table
        self.methods = frozenset(m.upper() for m in methods)
        self.path_prefix = path_prefix
        # Paths never recorded, e.g. routes whose answers hold secrets (webhook subscriptions).
        self.exclude_prefixes = tuple(exclude_prefixes)
        self.ttl = ttl
        self.wait_seconds = wait_seconds
        self.stale_after = stale_after
        self.purge_every = purge_every
        self._last_purge = 0.0

    @staticmethod
    def document_openapi(
        doc: dict[str, Any],
        *,
        methods: Iterable[str] = ("POST",),
        path_prefix: str = "/",
        exclude_prefixes: Iterable[str] = (),
        **_: Any,
    ) -> None:
        """Declare ``Idempotency-Key`` and its answers on the operations this middleware covers."""
        wanted = {m.lower() for m in methods}
        excluded = tuple(exclude_prefixes)
        for path, method, op in operations(doc):
            if method in wanted and path.startswith(path_prefix) and not path.startswith(excluded):
                declare_header(
                    op,
                    "Idempotency-Key",
                    "1–255 visible ASCII characters (a UUID): a retry with the same key and body "
                    "replays the first answer instead of doing the work twice (kept 24 h)",
                    schema={"type": "string", "minLength": 1, "maxLength": 255},
                )
                declare_response(
                    op, 409, "A request with this Idempotency-Key is still being processed", retry_after=True
                )
                declare_response(op, 422, "Validation failed, or the Idempotency-Key was used for a different request")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in self.methods:
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        raw_key = next((v for k, v in scope["headers"] if k == b"idempotency-key"), None)
        if raw_key is None or not path.startswith(self.path_prefix) or path.startswith(self.exclude_prefixes):
            await self.app(scope, receive, send)
            return
        key = raw_key.decode("latin-1").strip()
        if not valid_key(key):
            response = problem_response(
                422,
                "invalid_idempotency_key",
                "Idempotency-Key must be 1–255 visible ASCII characters (a UUID is a good choice).",
                errors=[{"field": "header.Idempotency-Key", "message": "1–255 visible ASCII characters"}],
            )
            await response(scope, receive, send)
            return
        principal = await self._principal(scope)
        if principal is None:  # the app answers 401 itself
            await self.app(scope, receive, send)
            return

        body = await _read_body(receive)
        query = scope.get("query_string", b"")
        canonical = canonical_json(body)
        print_ = fingerprint(scope["method"], path, query, body if canonical is None else canonical)
        # Keys stored before canonical fingerprints hold the raw body's: a retry still matches.
        prints = {print_, fingerprint(scope["method"], path, query, body)}
        app_state = scope["app"].state
        maker: async_sessionmaker[AsyncSession] = app_state.sessionmaker
        await self._maybe_purge(maker)

        deadline = time.monotonic() + self.wait_seconds
        while True:
            claimed, row = await self._claim(maker, key, principal, print_, scope["method"], path)
            if claimed:
                break
            assert row is not None
            if row.fingerprint not in prints:
                response = problem_response(
                    422,
                    "idempotency_key_reused",
                    "This Idempotency-Key was used for a different request; use a new key.",
                )
                await response(scope, receive, send)
                return
            if row.state == DONE:
                await self._replay(row, scope, receive, send)
                return
            if time.monotonic() >= deadline:
                response = problem_response(
                    409,
                    "idempotency_in_progress",
                    "A request with this Idempotency-Key is still being processed; retry shortly.",
                    headers={"Retry-After": "1"},
                )
                await response(scope, receive, send)
                return
            await asyncio.sleep(0.05)

        captured = _Captured()

        pending: list[bytes] = [body]

        async def replay_body() -> Message:
            if not pending:
                return await receive()  # after the body: wait for the disconnect
            return {"type": "http.request", "body": pending.pop(), "more_body": False}

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                captured.started = True
                captured.status = int(message["status"])
                captured.headers = list(message.get("headers", []))
            elif message["type"] == "http.response.body":
                captured.body.extend(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, replay_body, capture)
        except BaseException:
            await self._release(maker, key, principal)
            raise
        if captured.status >= 500 or captured.status == 429 or not captured.started:
            await self._release(maker, key, principal)
        else:
            await self._store(maker, key, principal, captured)

    async def _principal(self, scope: Scope) -> str | None:
        auth = next((v for k, v in scope["headers"] if k == b"authorization"), None)
        if auth is None:
            return None
        scheme, _, token = auth.decode("latin-1").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None
        try:
            principal = await scope["app"].state.verifier.verify(token.strip())
        except Exception:  # an invalid token: the app refuses it with a proper 401
            return None
        return f"{principal.kind}:{principal.subject}"[:128]

    async def _claim(
        self,
        maker: async_sessionmaker[AsyncSession],
        key: str,
        principal: str,
        print_: str,
        method: str,
        path: str,
    ) -> tuple[bool, Any]:
        """Insert the running claim; (True, None) when ours, else (False, the existing row)."""
        t = self.table
        now = utcnow()
        async with maker() as session:
            dialect = (await session.connection()).dialect.name
            ins = pg_insert(t) if dialect == "postgresql" else sqlite_insert(t)
            stmt = ins.values(
                key=key,
                principal=principal,
                fingerprint=print_,
                method=method,
                path=path[:500],
                state=RUNNING,
                created_at=now,
                expires_at=now + self.ttl,
            ).on_conflict_do_nothing(index_elements=["key", "principal"])
            result = await session.execute(stmt)
            if getattr(result, "rowcount", 0) == 1:
                await session.commit()
                return True, None
            row = (await session.execute(select(t).where(t.c.key == key, t.c.principal == principal))).first()
            if row is None:  # released meanwhile: try again
                await session.rollback()
                return await self._claim(maker, key, principal, print_, method, path)
            expired = row.expires_at <= now
            abandoned = row.state == RUNNING and row.created_at <= now - self.stale_after
            if expired or abandoned:
                # Take the key over: an expired key starts afresh; an abandoned claim
                # (its process died) is re-run, under the same conditional update.
                taken = await session.execute(
                    update(t)
                    .where(t.c.key == key, t.c.principal == principal, t.c.created_at == row.created_at)
                    .values(
                        fingerprint=print_ if expired else row.fingerprint,
                        method=method,
                        path=path[:500],
                        state=RUNNING,
                        status_code=None,
                        response_headers=None,
                        response_body=None,
                        created_at=now,
                        expires_at=now + self.ttl,
                    )
                )
                if getattr(taken, "rowcount", 0) == 1 and (expired or row.fingerprint == print_):
                    await session.commit()
                    return True, None
            await session.rollback()
            return False, row

    async def _store(
        self, maker: async_sessionmaker[AsyncSession], key: str, principal: str, captured: _Captured
    ) -> None:
        headers = [
            [k.decode("latin-1"), v.decode("latin-1")]
            for k, v in captured.headers
            if k.decode("latin-1").lower() not in _SKIP_HEADERS
        ]
        t = self.table
        async with maker() as session:
            await session.execute(
                update(t)
                .where(t.c.key == key, t.c.principal == principal)
                .values(
                    state=DONE,
                    status_code=captured.status,
                    response_headers=headers,
                    response_body=bytes(captured.body),
                )
            )
            await session.commit()

    async def _release(self, maker: async_sessionmaker[AsyncSession], key: str, principal: str) -> None:
        t = self.table
        try:
            async with maker() as session:
                await session.execute(delete(t).where(t.c.key == key, t.c.principal == principal, t.c.state == RUNNING))
                await session.commit()
        except Exception:  # the claim then goes stale and is taken over later
            logger.warning("could not release an idempotency key", exc_info=True)

    async def _replay(self, row: Any, scope: Scope, receive: Receive, send: Send) -> None:
        body: bytes = row.response_body or b""
        stored = row.response_headers
        if isinstance(stored, str):  # some drivers hand JSON back as text
            stored = json.loads(stored)
        headers = [(str(k).encode("latin-1"), str(v).encode("latin-1")) for k, v in (stored or [])]
        headers.append((b"content-length", str(len(body)).encode()))
        headers.append((REPLAYED.lower().encode(), b"true"))
        await send({"type": "http.response.start", "status": int(row.status_code), "headers": headers})
        await send({"type": "http.response.body", "body": body, "more_body": False})

    async def _maybe_purge(self, maker: async_sessionmaker[AsyncSession]) -> None:
        now = time.monotonic()
        if now - self._last_purge < self.purge_every:
            return
        self._last_purge = now
        try:
            async with maker() as session:
                await purge_expired(session, self.table)
                await session.commit()
        except Exception:
            logger.warning("idempotency purge failed", exc_info=True)


async def _read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


__all__ = [
    "REPLAYED",
    "IdempotencyMiddleware",
    "canonical_json",
    "fingerprint",
    "idempotency_table",
    "purge_expired",
    "valid_key",
]
