"""Catalogue reads from memory: item read, list, categories and a 304 revalidation against the
same process's /healthz, in the same run.

Starts the catalog app as it is deployed (uvicorn, the launcher's HTTP options, real JWTs
through a JWKS file, real migrations, the demo handbook), then alternates load runs on
``/healthz`` and on each read, so every ratio compares two runs a few seconds apart on the
same process. Prints req/s, p50/p99, the server's CPU µs per request, the ratios to /healthz
(req/s; and CPU, which says more when the load generator, not the server, is the limit), and
whether the goal "item read ≥ 0.5× /healthz req/s" is met. A second process re-reads the
revision on every request (``DOORSTEP_CATALOG_REVISION_CHECK_MS=0``) to show what the
default's at-most-every-250-ms check saves. Also times one token verification in-process
(what a request costs the first time its token is seen; later ones are cached).

    .venv/bin/python bench/bench_catalog_read.py [--quick]
    DOORSTEP_BENCH_DATABASE_URL=postgresql+asyncpg://postgres@127.0.0.1:5432/test \\
        .venv/bin/python bench/bench_catalog_read.py
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


from bench import common
from doorstep_catalog.config import CatalogSettings
from doorstep_catalog.seed import seed
from doorstep_shared.auth.tokens import KeySet, Principal, SigningKey, TokenSigner, TokenVerifier, jwks_document
from doorstep_shared.db import create_engine, migrations
from doorstep_shared.db.session import make_sessionmaker

PACKAGE = "doorstep_catalog"
GOAL = 0.5
ITEM = "elderly-allowance"
PER_REQUEST = "revision read per request: "


async def prepare(url: str, schema: str | None, var_dir: Path) -> None:
    await asyncio.to_thread(migrations.upgrade, PACKAGE, url, schema)
    settings = CatalogSettings(environment="test", database_url=url, database_schema=schema, var_dir=var_dir)
    engine = create_engine(url, schema=schema)
    try:
        async with make_sessionmaker(engine, audit=settings.audit_trust())() as session:
            await seed(session)
            await session.commit()
    finally:
        await engine.dispose()


def verify_cost_us(key: SigningKey, token: str, repeat: int) -> float:
    """Median µs of one uncached verification (a fresh verifier each time, the key loaded)."""
    keys = KeySet(keys={key.kid: key.private_key.public_key()})

    async def once() -> float:
        verifier = TokenVerifier(keys, issuer="doorstep-gateway", audience="doorstep")
        started = time.perf_counter()
        await verifier.verify(token)
        return (time.perf_counter() - started) * 1e6

    async def run() -> list[float]:
        return [await once() for _ in range(repeat)]

    return statistics.median(asyncio.run(run()))


def get(url: str, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers=headers)  # noqa: S310 (loopback only)
    with urllib.request.urlopen(request, timeout=10) as resp:  # noqa: S310
        return resp.status, dict(resp.headers), resp.read()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2-second runs, one round (about 40 s)")
    parser.add_argument("-c", "--connections", type=int, default=16)
    args = parser.parse_args()
    seconds, warmup, rounds = (2.0, 0.5, 1) if args.quick else (4.0, 1.0, 2)

    tmp = Path(tempfile.mkdtemp(prefix="bench-catalog-read-"))
    pg = os.environ.get("DOORSTEP_BENCH_DATABASE_URL")
    url = pg or f"sqlite+aiosqlite:///{tmp / 'catalog.db'}"
    schema = f"bench_catalog_{uuid.uuid4().hex[:8]}" if pg else None
    backend = "PostgreSQL" if pg else "SQLite"

    key = SigningKey.generate("bench")
    jwks = tmp / "jwks.json"
    jwks.write_text(json.dumps(jwks_document([key])))
    signer = TokenSigner(key, issuer="doorstep-gateway", audience="doorstep", access_ttl=3600, refresh_ttl=3600)
    principal = Principal(
        subject="chaoyang.worker", kind="user", name="bench", roles=frozenset({"social_worker"}), community="chaoyang"
    )
    token = signer.access_token(principal)[0]
    auth = {"Authorization": f"Bearer {token}"}

    asyncio.run(prepare(url, schema, tmp))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DOORSTEP_", "BENCH_"))}
    env.update(
        PYTHONPATH=str(common.REPO_ROOT),
        DOORSTEP_CATALOG_ENVIRONMENT="test",
        DOORSTEP_CATALOG_LOG_LEVEL="WARNING",
        DOORSTEP_CATALOG_VAR_DIR=str(tmp),
        DOORSTEP_CATALOG_DATABASE_URL=url,
        DOORSTEP_CATALOG_DATABASE_SCHEMA=schema or "",
        DOORSTEP_CATALOG_JWKS_FILE=str(jwks),
    )
    from doorstep_tools.launcher import HTTP_PROTOCOL

    def server(name: str, check_ms: str | None) -> common.Server:
        port = common.free_port()
        server_env = dict(env)
        if check_ms is not None:
            server_env["DOORSTEP_CATALOG_REVISION_CHECK_MS"] = check_ms
        return common.Server(
            name=name,
            cmd=[
                *common.uvicorn_cmd("doorstep_catalog.main:create_app", port),
                "--no-server-header",
                "--http",
                HTTP_PROTOCOL,
            ],
            port=port,
            env=server_env,
            log_path=tmp / f"{name}.log",
        )

    # The default (revision re-read at most every 250 ms), and a second process that re-reads
    # it on every request: the price of never serving another replica's change late.
    servers = {"": server("catalog", None), PER_REQUEST: server("catalog-0ms", "0")}
    results: dict[str, list[dict[str, float]]] = {}
    try:
        for label, srv in servers.items():
            srv.start()
            base = srv.url
            item_url = f"{base}/api/v1/catalog/items/{ITEM}"
            status, headers, _ = get(item_url, auth)
            etag = headers.get("ETag") or headers.get("etag") or ""
            assert status == 200 and etag, (status, headers)
            runs = [("/healthz", f"{base}/healthz", {}), ("item read", item_url, auth)]
            if not label:
                runs += [
                    ("item read, If-None-Match → 304", item_url, {**auth, "If-None-Match": etag}),
                    ("browse (20 items)", f"{base}/api/v1/catalog/items?limit=20", auth),
                    ("categories", f"{base}/api/v1/catalog/categories", auth),
                    ("search (q=gl, writes a search event)", f"{base}/api/v1/catalog/items?q=gl", auth),
                ]
            for _ in range(rounds):
                for name, target, hdrs in runs:
                    common.load(target, connections=args.connections, seconds=warmup, headers=hdrs)
                    before = srv.cpu()
                    result = common.load(target, connections=args.connections, seconds=seconds, headers=hdrs)
                    used = srv.cpu() - before
                    results.setdefault(label + name, []).append(
                        {
                            "rps": result.rps,
                            "p50": result.p50_ms,
                            "p99": result.p99_ms,
                            "cpu_us": used / max(result.requests, 1) * 1e6,
                            "errors": result.errors,
                        }
                    )
            srv.stop()
        verify_us = verify_cost_us(key, token, 200)
    finally:
        for srv in servers.values():
            srv.stop()
        if schema:
            asyncio.run(common.drop_schema(url, schema))

    def baseline(name: str) -> dict[str, float]:
        label = PER_REQUEST if name.startswith(PER_REQUEST) else ""
        rows = results[label + "/healthz"]
        return {k: statistics.median(r[k] for r in rows) for k in ("rps", "cpu_us")}

    print(
        f"catalog reads vs /healthz, {backend}, {args.connections} connections, {seconds:g}-second runs,"
        f" {rounds} round(s); load from {'wrk' if common.wrk_binary() else 'bench/loadgen.py'}"
    )
    print()
    print("| read | req/s | vs /healthz | p50 ms | p99 ms | server CPU µs/req | /healthz CPU ÷ this | errors |")
    print("|---|---|---|---|---|---|---|---|")
    ratios: dict[str, float] = {}
    for name, rows in results.items():
        rps = statistics.median(r["rps"] for r in rows)
        cpu = statistics.median(r["cpu_us"] for r in rows)
        base = baseline(name)
        ratios[name] = rps / base["rps"] if base["rps"] else 0.0
        print(
            f"| {name} | {rps:,.0f} | {ratios[name]:.2f}× | {statistics.median(r['p50'] for r in rows):.2f}"
            f" | {statistics.median(r['p99'] for r in rows):.2f} | {cpu:,.0f} | {base['cpu_us'] / cpu:.2f}×"
            f" | {sum(int(r['errors']) for r in rows)} |"
        )
    print()
    print(f"one token verification, uncached (RS256, key loaded): {verify_us:.0f} µs; later requests hit the cache")
    met = ratios["item read"] >= GOAL
    print(f"item read {ratios['item read']:.2f}× /healthz — goal ≥ {GOAL}×: {'met' if met else 'not met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
