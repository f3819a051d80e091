"""Profile one proxy read in-process: the app with the demo data, N requests through httpx's ASGI
transport as ``chaoyang.worker``, under pyinstrument (or cProfile), plus the CPU µs per request
without a profiler — the tool behind the lean resident reads (issue #23 part 2).

    .venv/bin/python bench/profile_proxy_read.py [PATH] [-n 300] [--cprofile]
    DOORSTEP_BENCH_DATABASE_URL=postgresql+asyncpg://postgres@127.0.0.1:5432/test \\
        .venv/bin/python bench/profile_proxy_read.py "/api/v1/proxy/cases?limit=20"

PATH defaults to ``/api/v1/proxy/residents?limit=20``; ``{id}`` in it becomes the id of the
first resident of that page. SQLite by default (a temporary file), PostgreSQL in a throw-away
schema when DOORSTEP_BENCH_DATABASE_URL is set. The CPU figure includes the in-process client.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import logging
import os
import pstats
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx
from pyinstrument import Profiler

from bench import common
from doorstep_proxy.config import ProxySettings
from doorstep_proxy.main import create_app
from doorstep_proxy.seed import seed
from doorstep_shared.auth.tokens import KeySet, SigningKey, TokenSigner
from doorstep_shared.db import migrations
from doorstep_shared.directory import demo_directory_file

PAGE = "/api/v1/proxy/residents?limit=20"


async def requests(client: httpx.AsyncClient, path: str, headers: dict[str, str], n: int) -> None:
    for _ in range(n):
        r = await client.get(path, headers=headers)
        assert r.status_code == 200, r.text[:300]


async def run(path: str, n: int, use_cprofile: bool) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="profile-proxy-"))
    pg = os.environ.get("DOORSTEP_BENCH_DATABASE_URL")
    url = pg or f"sqlite+aiosqlite:///{tmp / 'proxy.db'}"
    schema = f"profile_proxy_{uuid.uuid4().hex[:8]}" if pg else None
    await asyncio.to_thread(migrations.upgrade, "doorstep_proxy", url, schema)
    key = SigningKey.generate("profile")
    signer = TokenSigner(key, issuer="doorstep-gateway", audience="doorstep", access_ttl=3600, refresh_ttl=3600)
    headers = {"Authorization": f"Bearer {signer.access_token(common.chaoyang_worker())[0]}"}
    settings = ProxySettings(
        environment="test",
        database_url=url,
        database_schema=schema,
        log_json=False,
        directory_file=demo_directory_file(),
        var_dir=tmp,
    )
    app = create_app(settings, key_set=KeySet(keys={key.kid: key.private_key.public_key()}))
    try:
        async with app.router.lifespan_context(app):
            async with app.state.sessionmaker() as session:
                await seed(session, app.state.pii)
                await session.commit()
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://proxy") as client:
                if "{id}" in path:
                    first = (await client.get(PAGE, headers=headers)).json()["items"][0]["id"]
                    path = path.replace("{id}", first)
                await requests(client, path, headers, 50)  # warm: pools, caches, statement cache
                started = time.process_time()
                await requests(client, path, headers, n)
                print(f"{path}: {(time.process_time() - started) / n * 1e6:,.0f} µs CPU per request (no profiler)")
                if use_cprofile:
                    profile = cProfile.Profile()
                    profile.enable()
                    await requests(client, path, headers, n)
                    profile.disable()
                    pstats.Stats(profile).sort_stats("tottime").print_stats(40)
                else:
                    profiler = Profiler(interval=0.0002)
                    profiler.start()
                    await requests(client, path, headers, n)
                    profiler.stop()
                    print(profiler.output_text(unicode=True, color=False))
    finally:
        if schema is not None:
            await common.drop_schema(url, schema)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", nargs="?", default=PAGE)
    parser.add_argument("-n", type=int, default=300, help="requests measured (and profiled)")
    parser.add_argument("--cprofile", action="store_true", help="cProfile by own time instead of pyinstrument")
    args = parser.parse_args()
    logging.disable(logging.INFO)  # the per-request access lines would swamp the profile
    asyncio.run(run(args.path, args.n, args.cprofile))
    return 0


if __name__ == "__main__":
    sys.exit(main())
