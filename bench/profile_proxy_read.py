"""Profile one proxy read in-process: the app with the demo data, N requests through httpx's ASGI
transport as ``chaoyang.worker``, under pyinstrument (or cProfile), plus the CPU µs per request
without a profiler — the tool behind the lean resident reads (issue #23 part 2).

    .venv/bin/python bench/profile_proxy_read.py [PATH] [-n 300] [--cprofile | --no-profile]
    DOORSTEP_BENCH_DATABASE_URL=postgresql+asyncpg://postgres@127.0.0.1:5432/test \\
        .venv/bin/python bench/profile_proxy_read.py "/api/v1/proxy/cases?limit=20"

PATH defaults to ``/api/v1/proxy/residents?limit=20``; ``{id}`` in it becomes the id of the
first item of the list above it (``/cases/{id}``: the first of ``/cases?limit=1``; a visit: the
first of ``/my/day``). The catalogue is the catalog's seed (the 68 items), installed as the
proxy's copy, and for a lead read a county discovery run comes first (as the nightly pass would
have made it: the leads, their "last confirmed" run, the change queue emptied), so the read
measured is not also draining the seeded residents' re-evaluations. SQLite by default (a temporary file), PostgreSQL in a throw-away schema when
DOORSTEP_BENCH_DATABASE_URL is set. The CPU figure includes the in-process client (and, on
SQLite, the database's own work in aiosqlite's thread); it is the median over batches of 50
requests.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import logging
import os
import pstats
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx
from pyinstrument import Profiler

from bench import common
from doorstep_catalog import seed as catalog_seed
from doorstep_proxy.catalog_client import CatalogItem, CatalogSnapshot
from doorstep_proxy.config import ProxySettings
from doorstep_proxy.discovery import runs
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


def catalogue() -> CatalogSnapshot:
    """The catalog's seeded items as the proxy reads them from the export."""
    items = {}
    for row in catalog_seed.ITEMS:
        code, name, category, content = catalog_seed._content(row)
        items[code] = CatalogItem.model_validate({**content, "code": code, "name": name, "category": category})
    return CatalogSnapshot(revision=1, items=items)


BATCH = 50


async def cpu_per_request(client: httpx.AsyncClient, path: str, headers: dict[str, str], n: int) -> float:
    """The process's CPU µs per request: the median over batches of ``BATCH`` requests, so the
    app's own background work (discovery and retention passes, the directory follower, the
    webhook dispatcher) that lands in one batch does not move the figure."""
    per_batch = []
    for _ in range(max(1, n // BATCH)):
        started = time.process_time()
        await requests(client, path, headers, BATCH)
        per_batch.append((time.process_time() - started) / BATCH * 1e6)
    return statistics.median(per_batch)


async def county_run(app: Any) -> None:
    """A completed county discovery run over the seeded residents."""
    snapshot = await app.state.catalog.snapshot()
    directory = app.state.directory.directory()
    owner = runs.new_owner()
    async with app.state.sessionmaker() as session:
        run, _ = await runs.start_run(
            session, snapshot, scope="county", actor="bench", owner=owner, directory=directory
        )
        await session.commit()
    done = await runs.execute(app.state.sessionmaker, snapshot, run.id or 0, owner, directory=directory)
    assert done is not None and done.status == "completed", done


async def first_id(client: httpx.AsyncClient, path: str, headers: dict[str, str]) -> str:
    """The id of the first item of the list ``{id}`` stands under."""
    above = path.split("/{id}")[0]
    if above.endswith("/visits"):
        r = await client.get("/api/v1/proxy/my/day", headers=headers)
        assert r.status_code == 200, r.text[:300]
        return str(r.json()["visits"][0]["id"])
    r = await client.get(f"{above}?limit=1", headers=headers)
    assert r.status_code == 200, r.text[:300]
    return str(r.json()["items"][0]["id"])


async def run(path: str, n: int, use_cprofile: bool, profile: bool = True) -> None:
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
        catalog_cache_seconds=10**9,  # the primed copy below, never asked for again
    )
    app = create_app(settings, key_set=KeySet(keys={key.kid: key.private_key.public_key()}))
    try:
        async with app.router.lifespan_context(app):
            async with app.state.sessionmaker() as session:
                await seed(session, app.state.pii)
                await session.commit()
            app.state.catalog.prime(catalogue())
            if "/leads" in path:
                await county_run(app)
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://proxy") as client:
                if "{id}" in path:
                    path = path.replace("{id}", await first_id(client, path, headers))
                await requests(client, path, headers, 50)  # warm: pools, caches, statement cache
                print(
                    f"{path}: {await cpu_per_request(client, path, headers, n):,.0f} µs CPU per request (no profiler)"
                )
                if not profile:
                    return
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
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", nargs="?", default=PAGE)
    parser.add_argument("-n", type=int, default=300, help="requests measured (and profiled)")
    parser.add_argument("--cprofile", action="store_true", help="cProfile by own time instead of pyinstrument")
    parser.add_argument("--no-profile", action="store_true", help="only the CPU per request (A/B runs)")
    args = parser.parse_args()
    logging.disable(logging.INFO)  # the per-request access lines would swamp the profile
    asyncio.run(run(args.path, args.n, args.cprofile, not args.no_profile))
    return 0


if __name__ == "__main__":
    sys.exit(main())
