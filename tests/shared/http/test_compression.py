"""Compression: the client's best codec for bodies of 1 KB and more, once, ETags made weak."""

from __future__ import annotations

import gzip
import json

import brotli
import httpx
import pytest
import zstandard
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from doorstep_shared.http.compression import (
    Compression,
    EncodedBodies,
    cached_body_response,
    encoded,
    weak_etags_if_encoded,
)

BIG = json.dumps({"items": [{"code": f"item-{i}", "name": "高龄津贴申领"} for i in range(200)]}).encode()
SMALL = b'{"ok": true}'
DECODE = {
    "gzip": gzip.decompress,
    "br": brotli.decompress,
    "zstd": lambda data: zstandard.ZstdDecompressor().decompressobj().decompress(data),
}


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    path = scope["path"]
    headers = [(b"content-type", b"application/json"), (b"etag", b'"v7"')]
    if path == "/small":
        body: list[bytes] = [SMALL]
    elif path == "/stream":
        body = [BIG[:3000], BIG[3000:]]
    elif path == "/events":
        headers = [(b"content-type", b"text/event-stream")]
        body = [b"data: x\n\n" * 200]
    elif path == "/encoded":
        headers.append((b"content-encoding", b"gzip"))
        body = [gzip.compress(BIG)]
    elif path == "/png":
        headers = [(b"content-type", b"image/png")]
        body = [b"\x89PNG" + bytes(4000)]
    else:
        body = [BIG]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    for i, chunk in enumerate(body):
        await send({"type": "http.response.body", "body": chunk, "more_body": i < len(body) - 1})


async def call(path: str, accept_encoding: str | None, inner: ASGIApp = app) -> tuple[dict[str, str], list[bytes]]:
    """The raw answer (headers, body messages) of the compressed app, as a server sees it."""
    sent: list[Message] = []
    headers = [(b"accept-encoding", accept_encoding.encode())] if accept_encoding else []
    scope: Scope = {"type": "http", "method": "GET", "path": path, "headers": headers, "query_string": b""}

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    await Compression(inner)(scope, receive, send)
    start = {k.decode(): v.decode() for k, v in sent[0]["headers"]}
    return start, [m["body"] for m in sent[1:] if m.get("body") or not m.get("more_body")]


@pytest.mark.parametrize(
    ("accept", "codec"), [("gzip", "gzip"), ("gzip, br", "br"), ("gzip, br, zstd", "zstd"), ("br;q=0, gzip", "gzip")]
)
async def test_a_big_body_goes_out_in_the_best_accepted_codec_and_decodes_to_the_same_bytes(
    accept: str, codec: str
) -> None:
    headers, chunks = await call("/big", accept)
    assert headers["content-encoding"] == codec
    body = b"".join(chunks)
    assert len(body) < len(BIG) / 3
    assert DECODE[codec](body) == BIG
    assert headers["etag"] == 'W/"v7"'  # other bytes than the identity answer: a weak validator
    assert "accept-encoding" in headers["vary"].lower()


@pytest.mark.parametrize("accept", [None, "identity", "deflate"])
async def test_without_an_accepted_codec_the_body_is_plain_and_the_etag_strong(accept: str | None) -> None:
    headers, chunks = await call("/big", accept)
    assert "content-encoding" not in headers
    assert b"".join(chunks) == BIG and headers["etag"] == '"v7"'


@pytest.mark.parametrize("path", ["/small", "/events", "/png"])
async def test_small_bodies_event_streams_and_images_stay_as_they_are(path: str) -> None:
    headers, _ = await call(path, "gzip, br, zstd")
    assert "content-encoding" not in headers


async def test_an_encoded_body_is_not_encoded_twice() -> None:
    headers, chunks = await call("/encoded", "gzip, br, zstd")
    assert headers["content-encoding"] == "gzip"
    assert gzip.decompress(b"".join(chunks)) == BIG


async def test_a_streamed_body_stays_streamed() -> None:
    headers, chunks = await call("/stream", "gzip")
    assert "content-length" not in headers
    assert len(chunks) >= 2  # not gathered into one message
    assert gzip.decompress(b"".join(chunks)) == BIG


def test_only_strong_etags_of_encoded_bodies_become_weak() -> None:
    encoded = [(b"content-encoding", b"br"), (b"etag", b'"a"')]
    assert weak_etags_if_encoded(encoded)[1] == (b"etag", b'W/"a"')
    assert weak_etags_if_encoded([(b"content-encoding", b"br"), (b"etag", b'W/"a"')])[1] == (b"etag", b'W/"a"')
    assert weak_etags_if_encoded([(b"etag", b'"a"')]) == [(b"etag", b'"a"')]


async def test_an_app_compresses_through_httpx_which_decodes_it() -> None:
    transport = httpx.ASGITransport(app=Compression(app))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        resp = await client.get("/big", headers={"Accept-Encoding": "zstd"})
    assert resp.headers["content-encoding"] == "zstd"
    assert resp.content == BIG


async def served(accept_encoding: str | None, body: bytes = BIG) -> tuple[dict[str, str], bytes]:
    """The raw answer of an app that serves ``body`` through ``cached_body_response``."""

    async def kept(scope: Scope, receive: Receive, send: Send) -> None:
        response = cached_body_response(Request(scope), body, media_type="application/json", headers={"ETag": '"v7"'})
        await response(scope, receive, send)

    headers, chunks = await call("/", accept_encoding, kept)
    return headers, b"".join(chunks)


@pytest.mark.parametrize(
    ("accept", "codec"),
    [("gzip", "gzip"), ("gzip, br", "br"), ("gzip, br, zstd", "zstd"), ("br;q=0, gzip", "gzip"), ("*", "zstd")],
)
async def test_a_kept_body_is_encoded_once_in_the_codec_the_middleware_would_pick(accept: str, codec: str) -> None:
    first, body = await served(accept)
    assert first["content-encoding"] == codec and DECODE[codec](body) == BIG
    assert first["etag"] == 'W/"v7"' and "accept-encoding" in first["vary"].lower()
    assert int(first["content-length"]) == len(body)
    again, body_again = await served(accept)
    assert body_again == body and again["content-encoding"] == codec
    assert (BIG, codec) in encoded._kept  # kept: the second answer was not compressed again


@pytest.mark.parametrize("accept", [None, "identity", "deflate", "gzip;q=0"])
async def test_a_kept_body_goes_plain_to_a_client_that_accepts_no_codec(accept: str | None) -> None:
    headers, body = await served(accept)
    assert "content-encoding" not in headers and body == BIG and headers["etag"] == '"v7"'


async def test_a_small_kept_body_is_not_encoded() -> None:
    headers, body = await served("gzip, br, zstd", SMALL)
    assert "content-encoding" not in headers and body == SMALL


def test_the_kept_encodings_stay_within_their_budget_least_recently_used_dropped_first() -> None:
    bodies = [json.dumps({"n": i, "text": "高龄津贴" * 200}).encode() for i in range(6)]
    one = len(bodies[0]) + len(gzip.compress(bodies[0], compresslevel=4, mtime=0))
    kept = EncodedBodies(budget=one * 4)
    for body in bodies[:4]:
        kept(body, "gzip")
    kept(bodies[0], "gzip")  # used again: the most recent now
    kept(bodies[4], "gzip")  # over the budget: the least recently used (bodies[1]) goes
    assert (bodies[0], "gzip") in kept._kept and (bodies[1], "gzip") not in kept._kept
    assert kept.size <= kept.budget and len(kept) == 4
    assert gzip.decompress(kept(bodies[1], "gzip")) == bodies[1]
    huge = b"x" * (kept.budget // 2)
    assert gzip.decompress(kept(huge, "gzip")) == huge and (huge, "gzip") not in kept._kept
