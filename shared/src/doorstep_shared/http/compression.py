"""Response compression: zstd, br or gzip, whichever the client accepts (in that order), for
compressible bodies of at least ``compression_min_bytes`` (1 KB).

Where: in every app, just inside the request middleware, so a body is compressed where it is
made, once. The gateway forwards a service's answer with its ``Content-Encoding`` (its aiohttp
pool does not decompress), and the compressor leaves
an answer that already has one alone: the gateway only compresses its own answers. What is
inside (the idempotency store, the rate limiter, the forwarder) sees plain bodies.

What not: small bodies (the frame costs more than it saves), already-compressed types (the
library's list of compressible types has no images or archives), event streams (an event must
reach the client when it is sent, and intermediaries buffer compressed streams), 304s and
range answers. Streamed answers stay streamed (chunk by chunk).

ETags: a strong ETag names one byte sequence, and the compressed body is another, so an answer
that leaves compressed carries its ETag as weak (``W/"…"``), as nginx does. Doorstep compares
ETags weakly in ``If-None-Match`` and ``If-Match`` alike (:func:`.conditional.etag_list`), and
its ETags name versions, not bytes, so a weak one read from a compressed answer works for both.

The library is starlette-compress (zstd through ``zstandard``, brotli through ``brotli``).

Bodies served many times unchanged (the catalogue's items, categories and export, made once per
revision) are compressed once per codec: :func:`cached_body_response` picks the codec as the
middleware would (its own parser of ``Accept-Encoding``, the same order and levels) and keeps the
encoded bytes beside the body (``encoded``, an :class:`EncodedBodies`: 32 MB at most). The middleware
leaves an answer that has a ``Content-Encoding`` alone, so such a body is not encoded again; its
ETag is made weak on the way out like any other encoded answer's.
"""

from __future__ import annotations

import gzip
import sys
from collections import OrderedDict
from collections.abc import Iterable, Mapping

import brotli
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from starlette_compress import CompressMiddleware, add_compress_type, remove_compress_type
from starlette_compress._utils import parse_accept_encoding  # the middleware's own negotiation

MINIMUM_SIZE = 1024
LEVEL = 4  # the middleware's default level for each of zstd, brotli and gzip
PREFERENCE = ("zstd", "br", "gzip")  # the middleware's order, whatever the client's q-values

if sys.version_info >= (3, 14):
    from compression import zstd

    def _zstd(body: bytes) -> bytes:
        return zstd.compress(body, level=LEVEL)
else:
    import zstandard

    def _zstd(body: bytes) -> bytes:
        return zstandard.ZstdCompressor(level=LEVEL).compress(body)


# Problem answers with many field errors can pass 1 KB; the library knows only application/json.
add_compress_type("application/problem+json")
remove_compress_type("text/event-stream")


class Compression:
    """starlette-compress, with ETags made weak on the answers it encodes."""

    def __init__(self, app: ASGIApp, *, minimum_size: int = MINIMUM_SIZE) -> None:
        self.app = app
        self.compress = CompressMiddleware(app, minimum_size=minimum_size)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def weaken_etag(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = weak_etags_if_encoded(message.get("headers", ()))
            await send(message)

        await self.compress(scope, receive, weaken_etag)


def negotiated(accept_encoding: str) -> str | None:
    """The codec the middleware would use for ``Accept-Encoding`` (None: identity)."""
    if not accept_encoding:
        return None
    accepted = parse_accept_encoding(accept_encoding)
    return next((coding for coding in PREFERENCE if coding in accepted), None)


def _encode(body: bytes, coding: str) -> bytes:
    if coding == "zstd":
        return _zstd(body)
    if coding == "br":
        return bytes(brotli.compress(body, quality=LEVEL))
    if coding == "gzip":
        return gzip.compress(body, compresslevel=LEVEL, mtime=0)
    raise ValueError(f"unknown content coding {coding!r}")


class EncodedBodies:
    """Bodies compressed once per codec, least recently used dropped first once the bodies and
    their encodings pass ``budget`` bytes. Keyed by the body's bytes (a bytes object computes its
    hash once): for bodies kept and served again, not for ones made per request. A body over a
    quarter of the budget is encoded every time, not kept."""

    def __init__(self, budget: int = 32 * 1024 * 1024) -> None:
        self.budget = budget
        self.size = 0
        self._kept: OrderedDict[tuple[bytes, str], bytes] = OrderedDict()

    def __call__(self, body: bytes, coding: str) -> bytes:
        key = (body, coding)
        found = self._kept.get(key)
        if found is not None:
            self._kept.move_to_end(key)
            return found
        out = _encode(body, coding)
        cost = len(body) + len(out)
        if cost > self.budget // 4:
            return out
        self._kept[key] = out
        self.size += cost
        while self.size > self.budget:
            (old, _), dropped = self._kept.popitem(last=False)
            self.size -= len(old) + len(dropped)
        return out

    def __len__(self) -> int:
        return len(self._kept)


encoded = EncodedBodies()


def cached_body_response(
    request: Request, body: bytes, *, media_type: str, headers: Mapping[str, str] | None = None
) -> Response:
    """An answer with ``body``, a body kept and served again unchanged: encoded in the codec the
    client accepts, from ``encoded``'s cache, so it is compressed once, not per request."""
    coding = negotiated(",".join(request.headers.getlist("accept-encoding"))) if len(body) >= MINIMUM_SIZE else None
    if coding is None:
        return Response(body, media_type=media_type, headers=headers)
    return Response(
        encoded(body, coding),
        media_type=media_type,
        headers={**(headers or {}), "Content-Encoding": coding, "Vary": "Accept-Encoding"},
    )


def weak_etags_if_encoded(headers: Iterable[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """``headers`` with a strong ETag made weak when the body has a Content-Encoding."""
    out = list(headers)
    if not any(name.lower() == b"content-encoding" for name, _ in out):
        return out
    return [
        (name, b"W/" + value) if name.lower() == b"etag" and value.startswith(b'"') else (name, value)
        for name, value in out
    ]
