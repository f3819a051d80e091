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
"""

from __future__ import annotations

from collections.abc import Iterable

from starlette.types import ASGIApp, Message, Receive, Scope, Send
from starlette_compress import CompressMiddleware, add_compress_type, remove_compress_type

MINIMUM_SIZE = 1024

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


def weak_etags_if_encoded(headers: Iterable[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """``headers`` with a strong ETag made weak when the body has a Content-Encoding."""
    out = list(headers)
    if not any(name.lower() == b"content-encoding" for name, _ in out):
        return out
    return [
        (name, b"W/" + value) if name.lower() == b"etag" and value.startswith(b'"') else (name, value)
        for name, value in out
    ]
