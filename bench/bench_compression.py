"""Bytes on the wire before and after compression: a worker's sync page, a list, the OpenAPI.

    .venv/bin/python bench/bench_compression.py [--quick]

The real proxy app in-process (``httpx.ASGITransport``), on a fresh SQLite file holding 1,000
residents and 4,000 cases of community chaoyang (``--quick``: 300 and 1,200). For each
answer: its size plain (the baseline, measured in the same run), then as gzip, br and zstd
(what the client receives with that ``Accept-Encoding``) and the ratio; then what encoding
that body costs the server: the median CPU time of the codec alone at the middleware's level
(4), which, unlike request times, a busy machine hardly moves.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

import brotli
import httpx
import zstandard

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import common
from bench.bench_proxy_sync import populate
from doorstep_proxy.config import ProxySettings
from doorstep_proxy.main import create_app
from doorstep_shared.auth.tokens import KeySet, SigningKey, TokenSigner
from doorstep_shared.db import migrations

CODECS = ("identity", "gzip", "br", "zstd")
LEVEL = 4  # starlette-compress's default, which doorstep_shared.http.compression keeps
ENCODE = {
    "gzip": lambda body: gzip.compress(body, compresslevel=LEVEL),
    "br": lambda body: brotli.compress(body, quality=LEVEL),
    "zstd": lambda body: zstandard.ZstdCompressor(level=LEVEL).compress(body),
}
ANSWERS = {
    "sync page (limit 1000)": ("/api/v1/proxy/sync", {"limit": 1000, "scope": "community"}),
    "case list (limit 200)": ("/api/v1/proxy/cases", {"limit": 200}),
    "residents list (limit 200)": ("/api/v1/proxy/residents", {"limit": 200}),
    "OpenAPI document": ("/openapi.json", {}),
}


async def measure(client: httpx.AsyncClient, path: str, params: dict[str, int | str], codec: str) -> tuple[int, bytes]:
    """(bytes received, decoded body) of one request with one Accept-Encoding."""
    resp = await client.get(path, params=params, headers={"Accept-Encoding": codec})
    resp.raise_for_status()
    assert resp.headers.get("content-encoding", "identity") == codec, (path, codec, resp.headers)
    return resp.num_bytes_downloaded, resp.content


def encode_ms(codec: str, body: bytes, rounds: int) -> float:
    """Median CPU milliseconds of encoding ``body`` with ``codec``."""
    timings = []
    for _ in range(rounds):
        t0 = time.process_time()
        ENCODE[codec](body)
        timings.append((time.process_time() - t0) * 1000)
    return statistics.median(timings)


async def run(residents: int, rounds: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{Path(tmp) / 'bench-compression.db'}"
        await asyncio.to_thread(migrations.upgrade, "doorstep_proxy", url, None)
        key = SigningKey.generate("bench")
        signer = TokenSigner(key, issuer="doorstep-gateway", audience="doorstep", access_ttl=3600, refresh_ttl=3600)
        principal = common.chaoyang_worker()
        headers = {"Authorization": f"Bearer {signer.access_token(principal)[0]}"}
        settings = ProxySettings(environment="test", database_url=url, log_json=False, log_level="WARNING")
        app = create_app(settings, key_set=KeySet(keys={key.kid: key.private_key.public_key()}))
        async with app.router.lifespan_context(app):
            await populate(app, residents, 4)
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://bench", headers=headers) as client:
                print(f"{residents:,} residents, {residents * 4:,} cases; encoding CPU: median of {rounds}\n")
                print("| answer | plain bytes | gzip | br | zstd | gzip CPU ms | br CPU ms | zstd CPU ms |")
                print("|---|---:|---:|---:|---:|---:|---:|---:|")
                for name, (path, params) in ANSWERS.items():
                    sizes, plain = {}, b""
                    for codec in CODECS:
                        sizes[codec], body = await measure(client, path, params, codec)
                        if codec == "identity":
                            plain = body
                        assert body == plain, f"{codec} decodes to other bytes"
                    cells = [f"{sizes['identity']:,}"]
                    cells += [f"{sizes[c]:,} ({sizes['identity'] / sizes[c]:.1f}×)" for c in CODECS[1:]]
                    cells += [f"{encode_ms(c, plain, rounds):.1f}" for c in CODECS[1:]]
                    print(f"| {name} | " + " | ".join(cells) + " |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="300 residents, 3 rounds")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    asyncio.run(run(300 if args.quick else 1000, 3 if args.quick else 9))


if __name__ == "__main__":
    main()
