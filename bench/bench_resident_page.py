"""The field app's resident reads against a raw asyncpg + orjson baseline, in the same run.

Starts the proxy as it is deployed (uvicorn, the launcher's HTTP options, real JWTs through a
JWKS file, real migrations, the demo data) and ``bench/apps/resident_page_raw.py`` (the same
queries and the same masking written by hand on asyncpg, written out by orjson, behind the same
token check) on the same PostgreSQL schema, then alternates load runs on each:

- ``GET /api/v1/proxy/residents?limit=20`` — a page of 20 residents (goal: ≥ 0.5× the baseline);
- ``GET /api/v1/proxy/residents/{id}`` — one resident (goal: ≥ 0.6× the baseline);
- ``/healthz`` of the proxy, the floor every request of the app pays.

Prints req/s, p50/p99, the server's CPU µs per request and the ratios to the baseline (req/s;
and CPU, steadier when the machine is busy or the load generator is the limit). The proxy runs
on SQLite too (no baseline there). PostgreSQL comes from DOORSTEP_BENCH_DATABASE_URL, else
bench/run.py's default; unreachable, only SQLite is measured.

    .venv/bin/python bench/bench_resident_page.py [--quick] [-c CONNECTIONS]
"""

# bench-timeout: 300

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import urllib.request
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import common
from bench.run import DEFAULT_PG, pg_reachable
from doorstep_proxy.config import ProxySettings
from doorstep_proxy.seed import seed
from doorstep_shared.auth.tokens import SigningKey, TokenSigner, jwks_document
from doorstep_shared.db import create_engine, migrations
from doorstep_shared.db.session import make_sessionmaker

PAGE_GOAL = 0.5
ONE_GOAL = 0.6
PAGE = "/api/v1/proxy/residents?limit=20"


def settings_env(tmp: Path, url: str, schema: str | None, jwks: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DOORSTEP_", "BENCH_"))}
    env.update(
        PYTHONPATH=str(common.REPO_ROOT),
        DOORSTEP_PROXY_ENVIRONMENT="test",
        DOORSTEP_PROXY_LOG_LEVEL="WARNING",
        DOORSTEP_PROXY_VAR_DIR=str(tmp),  # the development personal-data keys, shared by both apps
        DOORSTEP_PROXY_DATABASE_URL=url,
        DOORSTEP_PROXY_DATABASE_SCHEMA=schema or "",
        DOORSTEP_PROXY_JWKS_FILE=str(jwks),
    )
    return env


async def prepare(url: str, schema: str | None, var_dir: Path) -> None:
    """Migrated and seeded with the demo data (about 3,300 residents in chaoyang and beyond)."""
    await asyncio.to_thread(migrations.upgrade, "doorstep_proxy", url, schema)
    settings = ProxySettings(environment="test", database_url=url, database_schema=schema, var_dir=var_dir)
    engine = create_engine(url, schema=schema)
    try:
        async with make_sessionmaker(engine, audit=settings.audit_trust())() as session:
            await seed(session, settings.pii_cipher())
            await session.commit()
    finally:
        await engine.dispose()


def get_json(url: str, headers: dict[str, str]) -> Any:
    request = urllib.request.Request(url, headers=headers)  # noqa: S310 (loopback only)
    with urllib.request.urlopen(request, timeout=10) as resp:  # noqa: S310
        return json.loads(resp.read())


def server(name: str, factory: str, env: dict[str, str], tmp: Path) -> common.Server:
    from doorstep_tools.launcher import HTTP_PROTOCOL

    port = common.free_port()
    cmd = [*common.uvicorn_cmd(factory, port), "--no-server-header", "--http", HTTP_PROTOCOL]
    return common.Server(name=name, cmd=cmd, port=port, env=env, log_path=tmp / f"{name}.log")


def measure(srv: common.Server, url: str, auth: dict[str, str], seconds: float, connections: int) -> dict[str, float]:
    common.load(url, connections=connections, seconds=seconds / 4, headers=auth)  # warm-up
    before = srv.cpu()
    result = common.load(url, connections=connections, seconds=seconds, headers=auth)
    used = srv.cpu() - before
    return {
        "rps": result.rps,
        "p50": result.p50_ms,
        "p99": result.p99_ms,
        "cpu_us": used / max(result.requests, 1) * 1e6,
        "errors": result.errors,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2-second runs, one round")
    parser.add_argument("-c", "--connections", type=int, default=16)
    args = parser.parse_args()
    seconds, rounds = (2.0, 1) if args.quick else (4.0, 2)

    tmp = Path(tempfile.mkdtemp(prefix="bench-resident-page-"))
    key = SigningKey.generate("bench")
    jwks = tmp / "jwks.json"
    jwks.write_text(json.dumps(jwks_document([key])))
    signer = TokenSigner(key, issuer="doorstep-gateway", audience="doorstep", access_ttl=3600, refresh_ttl=3600)
    auth = {"Authorization": f"Bearer {signer.access_token(common.chaoyang_worker())[0]}"}

    pg = os.environ.get("DOORSTEP_BENCH_DATABASE_URL") or DEFAULT_PG
    backends: list[tuple[str, str, str | None]] = []
    if pg_reachable(pg):
        backends.append(("PostgreSQL", pg, f"bench_page_{uuid.uuid4().hex[:8]}"))
    else:
        print(f"PostgreSQL unreachable ({pg}): the raw asyncpg baseline is skipped.")
    backends.append(("SQLite", f"sqlite+aiosqlite:///{tmp / 'proxy.db'}", None))

    # (backend, app, read) -> the runs' figures
    results: dict[tuple[str, str, str], list[dict[str, float]]] = {}
    try:
        for backend, url, schema in backends:
            asyncio.run(prepare(url, schema, tmp))
            env = settings_env(tmp, url, schema, jwks)
            servers = {"proxy": server(f"proxy-{backend}", "doorstep_proxy.main:create_app", env, tmp)}
            if schema is not None:
                raw_env = {
                    **env,
                    "BENCH_DATABASE_URL": url,
                    "BENCH_DATABASE_SCHEMA": schema,
                    "BENCH_JWKS_FILE": str(jwks),
                }
                servers["raw asyncpg + orjson"] = server(
                    "resident-page-raw", "bench.apps.resident_page_raw:create_app", raw_env, tmp
                )
            with common.serving(list(servers.values())):
                proxy_url = servers["proxy"].url
                one = get_json(proxy_url + PAGE, auth)["items"][7]["id"]
                for name, srv in servers.items():  # the baseline answers the same residents
                    assert get_json(srv.url + PAGE, auth)["items"][7]["id"] == one, name
                reads = {
                    "page of 20": PAGE,
                    "one resident": f"/api/v1/proxy/residents/{one}",
                    "/healthz": "/healthz",
                }
                for _ in range(rounds):
                    for read, path in reads.items():
                        for name, srv in servers.items():
                            if read == "/healthz" and name != "proxy":
                                continue
                            figures = measure(srv, srv.url + path, auth, seconds, args.connections)
                            results.setdefault((backend, name, read), []).append(figures)
    finally:
        for _, url, schema in backends:
            if schema is not None:
                asyncio.run(common.drop_schema(url, schema))

    def median(key: tuple[str, str, str], field: str) -> float:
        return statistics.median(r[field] for r in results[key])

    print(
        f"resident reads, {args.connections} connections, {seconds:g}-second runs, {rounds} round(s);"
        f" load from {'wrk' if common.wrk_binary() else 'bench/loadgen.py'}; user chaoyang.worker"
    )
    print()
    print("| backend | app | read | req/s | vs raw | p50 ms | p99 ms | CPU µs/req | raw CPU ÷ this | errors |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    ratios: dict[str, tuple[float, float, int]] = {}
    for key in results:
        backend, name, read = key
        raw = (backend, "raw asyncpg + orjson", read)
        rps, cpu = median(key, "rps"), median(key, "cpu_us")
        vs_raw = rps / median(raw, "rps") if raw in results else None
        cpu_ratio = median(raw, "cpu_us") / cpu if raw in results and cpu else None
        errors = sum(int(r["errors"]) for r in results[key]) + sum(int(r["errors"]) for r in results.get(raw, []))
        if name == "proxy" and backend == "PostgreSQL" and vs_raw is not None and cpu_ratio is not None:
            ratios[read] = (vs_raw, cpu_ratio, errors)
        print(
            f"| {backend} | {name} | {read} | {rps:,.0f} | {f'{vs_raw:.2f}×' if vs_raw else ''}"
            f" | {median(key, 'p50'):.2f} | {median(key, 'p99'):.2f} | {cpu:,.0f}"
            f" | {f'{cpu_ratio:.2f}×' if cpu_ratio else ''} | {sum(int(r['errors']) for r in results[key])} |"
        )
    print()
    for read, goal in (("page of 20", PAGE_GOAL), ("one resident", ONE_GOAL)):
        if read not in ratios:
            print(f"{read}: no PostgreSQL baseline in this run — goal ≥ {goal}× not measured")
            continue
        vs_raw, cpu_ratio, errors = ratios[read]
        verdict = ("met" if vs_raw >= goal else "not met") if not errors else f"not judged ({errors} failed requests)"
        print(
            f"{read} (PostgreSQL): {vs_raw:.2f}× raw asyncpg + orjson req/s (CPU: {cpu_ratio:.2f}×) — "
            f"goal ≥ {goal}×: {verdict}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
