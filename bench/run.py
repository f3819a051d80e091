"""Doorstep benchmark suite: our code and a baseline measured in the same run, with ratios.

    .venv/bin/python bench/run.py            # full run (several minutes)
    .venv/bin/python bench/run.py --quick    # about a minute

Sections:

* hop — the gateway hop: service direct, nginx → service, our gateway → service
  (req/s, p50/p99, CPU µs per request of each process), at 32 connections and at 1;
* read — the typical read path (token check + one row by primary key + response model):
  what the services do (DbSession + a Core row), the ORM entity, Core on an AUTOCOMMIT
  connection, against raw asyncpg on PostgreSQL, and on SQLite;
* resources — start-up time, idle and under-load RSS of the four apps; the real catalog
  endpoint direct and through the gateway; ``make test`` wall time of the last whole-suite runs;
* modules — every other ``bench/bench_*.py`` script, run as a subprocess with ``--quick``
  (in quick mode) and a time bound; its table is copied into the report.

Everything runs on 127.0.0.1 in a temporary directory (the dev data under var/ is never
touched). Load comes from wrk when installed, else from bench/loadgen.py. Results go to
bench/results/<date>.json and bench/results/<date>.md.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import common
from bench.common import LoadResult, Server, fmt_int, md_table

DEFAULT_PG = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
GOAL_CPU_US = 250.0
GOAL_THROUGHPUT = 0.9
GOAL_ADDED_P50_MS = 0.5
GOAL_READ_RATIO = 0.6


@dataclass
class Plan:
    quick: bool
    seconds: float
    warmup: float
    connections: int = 32
    module_timeout: float = 600.0

    @classmethod
    def of(cls, quick: bool) -> Plan:
        if quick:
            return cls(quick=True, seconds=2.0, warmup=1.0, module_timeout=120.0)
        return cls(quick=False, seconds=10.0, warmup=2.0, module_timeout=300.0)


class Context:
    def __init__(self, plan: Plan, tmp: Path, force_loadgen: bool) -> None:
        from doorstep_shared.auth.tokens import Principal, SigningKey, TokenSigner, jwks_document

        self.plan = plan
        self.tmp = tmp
        self.force_loadgen = force_loadgen
        key = SigningKey.generate("bench-key")
        self.key_file = tmp / "bench-key.pem"
        self.key_file.write_bytes(key.to_pem())
        self.jwks_file = tmp / "jwks.json"
        self.jwks_file.write_text(json.dumps(jwks_document([key])))
        signer = TokenSigner(key, issuer="doorstep-gateway", audience="doorstep", access_ttl=3600, refresh_ttl=3600)
        principal = Principal(
            subject="county.admin",
            kind="user",
            name="County Admin",
            roles=frozenset({"county_admin"}),
        )
        self.token = signer.access_token(principal)[0]
        self.auth = {"Authorization": f"Bearer {self.token}"}
        self.pg_url = os.environ.get("BENCH_PG_URL") or os.environ.get("DOORSTEP_TEST_DATABASE_URL", DEFAULT_PG)
        self.pg_ok = pg_reachable(self.pg_url)
        self.notes: list[str] = []

    def base_env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DOORSTEP_", "BENCH_"))}
        # Bytecode cache in the temp dir: start-up is measured as deployed (with .pyc files)
        # even where PYTHONDONTWRITEBYTECODE is set, and the checkout stays untouched.
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(self.tmp / "pycache")
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(common.REPO_ROOT), env.get("PYTHONPATH", "")) if p)
        return env

    def load(self, url: str, connections: int | None = None, seconds: float | None = None) -> LoadResult:
        return common.load(
            url,
            connections=connections or self.plan.connections,
            seconds=seconds or self.plan.seconds,
            headers=self.auth,
            force_loadgen=self.force_loadgen,
        )

    def warm(self, url: str) -> None:
        common.load(
            url,
            connections=self.plan.connections,
            seconds=self.plan.warmup,
            headers=self.auth,
            force_loadgen=self.force_loadgen,
        )


def pg_reachable(url: str) -> bool:
    try:
        import asyncpg
    except ImportError:
        return False

    async def check() -> bool:
        conn = await asyncpg.connect(url.replace("+asyncpg", ""), timeout=3)
        await conn.close()
        return True

    try:
        return asyncio.run(check())
    except (OSError, asyncpg.PostgresError, TimeoutError):
        return False


def measure(
    ctx: Context,
    url: str,
    processes: dict[str, Server],
    connections: int | None = None,
) -> dict[str, Any]:
    """One load run; CPU µs per request and RSS of every named process."""
    ctx.warm(url)
    before = {name: s.cpu() for name, s in processes.items()}
    result = ctx.load(url, connections)
    after = {name: s.cpu() for name, s in processes.items()}
    row = result.as_dict()
    n = max(result.requests, 1)
    row["cpu_us"] = {name: (after[name] - before[name]) / n * 1e6 for name in processes}
    row["rss_mib"] = {name: s.rss() / 2**20 for name, s in processes.items()}
    return row


# --- servers --------------------------------------------------------------------------------


def echo_server(ctx: Context, name: str, database_url: str, schema: str | None) -> Server:
    port = common.free_port()
    env = ctx.base_env()
    env.update(
        BENCH_DATABASE_URL=database_url,
        BENCH_DATABASE_SCHEMA=schema or "",
        BENCH_JWKS_FILE=str(ctx.jwks_file),
    )
    return Server(
        name=name,
        cmd=common.uvicorn_cmd("bench.apps.echo:create_app", port),
        port=port,
        env=env,
        log_path=ctx.tmp / f"{name}.log",
    )


def app_env(ctx: Context, upstreams: dict[str, str] | None = None) -> dict[str, str]:
    env = ctx.base_env()
    for app in ("gateway", "catalog", "proxy", "stations"):
        prefix = f"DOORSTEP_{app.upper()}_"
        env[prefix + "VAR_DIR"] = str(ctx.tmp / "var")
        env[prefix + "ENVIRONMENT"] = "test"
        env[prefix + "LOG_LEVEL"] = "WARNING"
        env[prefix + "JWKS_FILE"] = str(ctx.jwks_file)
    env["DOORSTEP_GATEWAY_SIGNING_KEY_FILE"] = str(ctx.key_file)
    env["DOORSTEP_GATEWAY_SIGNING_KEY_ID"] = "bench-key"
    # One client, one token, thousands of requests a second: lift the per-user quota so the
    # limiter still runs (its cost is part of the hop) but never answers 429.
    env["DOORSTEP_GATEWAY_RATE_LIMIT_USER"] = "100000000/minute"
    env["DOORSTEP_GATEWAY_RATE_LIMIT_ANONYMOUS"] = "100000000/minute"
    for name, url in (upstreams or {}).items():
        env[f"DOORSTEP_GATEWAY_{name.upper()}_URL"] = url
    return env


def launcher_options() -> list[str]:
    """The uvicorn options ``make run`` gives every app (doorstep_tools.launcher)."""
    from doorstep_tools.launcher import HTTP_PROTOCOL

    return ["--no-server-header", "--http", HTTP_PROTOCOL]


def gateway_server(ctx: Context, upstreams: dict[str, str], name: str = "gateway") -> Server:
    port = common.free_port()
    dead = "http://127.0.0.1:9"
    all_upstreams = {"catalog": dead, "proxy": dead, "stations": dead, **upstreams}
    return Server(
        name=name,
        cmd=[*common.uvicorn_cmd("doorstep_gateway.main:create_app", port), *launcher_options()],
        port=port,
        env=app_env(ctx, all_upstreams),
        log_path=ctx.tmp / f"{name}.log",
    )


def app_server(ctx: Context, app: str, env: dict[str, str]) -> Server:
    port = common.free_port()
    return Server(
        name=app,
        cmd=common.uvicorn_cmd(f"doorstep_{app}.main:create_app", port),
        port=port,
        env=env,
        log_path=ctx.tmp / f"{app}.log",
    )


# --- sections -------------------------------------------------------------------------------


def section_hop(ctx: Context) -> dict[str, Any]:
    """Direct, nginx → service and gateway → service, on a small and a realistic endpoint."""
    if ctx.pg_ok:
        schema = f"bench_hop_{uuid.uuid4().hex[:8]}"
        db_url, db_label = ctx.pg_url, "PostgreSQL"
    else:
        schema = None
        db_url, db_label = f"sqlite+aiosqlite:///{ctx.tmp / 'hop.db'}", "SQLite"
        ctx.notes.append("PostgreSQL unreachable: the realistic hop endpoint reads from SQLite.")
    from bench.apps import echo

    echo.prepare(db_url, schema)
    service = echo_server(ctx, "service", db_url, schema)
    service.cmd += launcher_options()  # served like the real services
    gateway = gateway_server(ctx, {"catalog": service.url})
    nginx = common.nginx_server(ctx.tmp, service.port, ctx.base_env())
    if nginx is None:
        ctx.notes.append("nginx is not installed: the nginx → service baseline was skipped.")
    servers = [service, gateway] + ([nginx] if nginx else [])
    rows: list[dict[str, Any]] = []
    endpoints = [
        ("small JSON", "/api/v1/catalog/bench/small"),
        (f"token + ORM read ({db_label})", "/api/v1/catalog/bench/orm/42"),
    ]
    try:
        with common.serving(servers):
            for label, path in endpoints:
                conns = [ctx.plan.connections, 1]
                for c in conns:
                    if c == 1 and ctx.plan.quick and label == "small JSON":  # full run only
                        continue
                    paths: list[tuple[str, Server | None]] = [
                        ("direct", None),
                        ("nginx → service", nginx),
                        ("gateway → service", gateway),
                    ]
                    for via, hop in paths:
                        if via.startswith("nginx") and hop is None:
                            continue
                        base = hop.url if hop else service.url
                        procs = {"service": service}
                        if hop:
                            procs["hop"] = hop
                        row = measure(ctx, base + path, procs, connections=c)
                        row.update(endpoint=label, path=via)
                        rows.append(row)
            idle = {s.name: s.rss() / 2**20 for s in servers}
    finally:
        echo.drop(db_url, schema)
    _add_ratios(rows)
    return {"rows": rows, "rss_after_mib": idle, "goals": _hop_goals(rows, endpoints[1][0])}


def _add_ratios(rows: list[dict[str, Any]]) -> None:
    direct = {(r["endpoint"], r["connections"]): r for r in rows if r["path"] == "direct"}
    for r in rows:
        d = direct.get((r["endpoint"], r["connections"]))
        if d:
            r["ratio"] = r["rps"] / d["rps"] if d["rps"] else None
            r["added_p50_ms"] = r["p50_ms"] - d["p50_ms"]


def _hop_goals(rows: list[dict[str, Any]], realistic: str) -> dict[str, Any]:
    """The issue's goals: CPU per proxied request as in its table (small JSON, 32 connections);
    throughput on the realistic endpoint at 32 connections; added p50 on it at 1 connection."""

    def find(endpoint: str, path: str, conns: int) -> dict[str, Any]:
        return next(
            (r for r in rows if r["endpoint"] == endpoint and r["path"] == path and r["connections"] == conns),
            {},
        )

    gw = "gateway → service"
    cpu = find("small JSON", gw, 32).get("cpu_us", {}).get("hop")
    cpu_realistic = find(realistic, gw, 32).get("cpu_us", {}).get("hop")
    ratio = find(realistic, gw, 32).get("ratio")
    added = find(realistic, gw, 1).get("added_p50_ms")
    return {
        "gateway_cpu_us": cpu,
        "gateway_cpu_realistic_us": cpu_realistic,
        "gateway_cpu_ok": cpu is not None and cpu <= GOAL_CPU_US,
        "throughput_ratio": ratio,
        "throughput_ok": ratio is not None and ratio >= GOAL_THROUGHPUT,
        "added_p50_ms": added,
        "added_p50_ok": added is not None and added <= GOAL_ADDED_P50_MS,
    }


def section_read(ctx: Context) -> dict[str, Any]:
    """Token + one row by primary key: the services' read path, and the steps to it, against
    raw asyncpg on PostgreSQL; the same on SQLite."""
    from bench.apps import echo

    rows: list[dict[str, Any]] = []
    # (label, url, schema, variants, pre_ping). Variants: hot = the services' hot-read path
    # (hot_read + HotQuery: asyncpg itself on PostgreSQL), repository = DbSession + Core row (the
    # services' other reads), orm = DbSession + ORM entity, orm_tx = the same in BEGIN … COMMIT,
    # core_ac = Core on an AUTOCOMMIT engine connection, raw = asyncpg. With pre-ping on and
    # orm_tx, the second backend is the read path as it was before part 2b.
    backends: list[tuple[str, str, str | None, list[str], bool]] = []
    if ctx.pg_ok:
        schema = f"bench_read_{uuid.uuid4().hex[:8]}"
        variants = ["raw", "hot", "repository", "orm", "orm_tx", "core_ac"]
        backends.append(("PostgreSQL", ctx.pg_url, schema, variants, False))
        backends.append(("PostgreSQL, pre-ping on", ctx.pg_url, schema, ["orm_tx", "repository"], True))
    else:
        ctx.notes.append("PostgreSQL unreachable: the raw-asyncpg baseline was skipped.")
    sqlite_url = f"sqlite+aiosqlite:///{ctx.tmp / 'read.db'}"
    backends.append(("SQLite", sqlite_url, None, ["hot", "repository", "orm"], False))
    prepared: list[tuple[str, str | None]] = []
    try:
        for label, url, schema_name, variants, pre_ping in backends:
            if (url, schema_name) not in prepared:
                echo.prepare(url, schema_name)
                prepared.append((url, schema_name))
            server = echo_server(ctx, f"read-{len(rows)}", url, schema_name)
            if pre_ping:
                server.env["BENCH_PRE_PING"] = "1"
            with common.serving([server]):
                for variant in variants:
                    row = measure(ctx, f"{server.url}/api/v1/catalog/bench/{variant}/42", {"service": server})
                    row.update(backend=label, variant=variant)
                    rows.append(row)
    finally:
        for url, schema_name in prepared:
            echo.drop(url, schema_name)
    raw = next((r for r in rows if r["variant"] == "raw"), None)
    for r in rows:
        r["ratio_vs_raw"] = r["rps"] / raw["rps"] if raw and raw["rps"] else None
        r["cpu_ratio_vs_raw"] = (
            raw["cpu_us"]["service"] / r["cpu_us"]["service"] if raw and r["cpu_us"]["service"] else None
        )

    def ratio(backend: str, variant: str) -> float | None:
        row = next((r for r in rows if r["variant"] == variant and r["backend"] == backend), None)
        return row["ratio_vs_raw"] if row else None

    goals: dict[str, Any] = {}
    for key, backend, variant in (
        ("hot", "PostgreSQL", "hot"),
        ("repository", "PostgreSQL", "repository"),
        ("orm", "PostgreSQL", "orm"),
        ("before", "PostgreSQL, pre-ping on", "orm_tx"),
    ):
        value = ratio(backend, variant)
        goals[f"{key}_ratio"] = value
        goals[f"{key}_ok"] = value is not None and value >= GOAL_READ_RATIO
    return {"rows": rows, "goals": goals}


def section_resources(ctx: Context) -> dict[str, Any]:
    """Start-up time and RSS of the four apps; the real catalog endpoint direct and via gateway."""
    env = app_env(ctx)
    seed = common.seed_demo(env, timeout=300)
    seeded = seed.returncode == 0
    if not seeded:
        ctx.notes.append(
            "launcher --seed-only failed (a service is probably being rewritten): "
            + seed.stderr.strip().splitlines()[-1][:200]
            if seed.stderr.strip()
            else "launcher --seed-only failed"
        )
    apps: dict[str, Server] = {}
    for app in ("catalog", "proxy", "stations"):
        apps[app] = app_server(ctx, app, env)
    rows: list[dict[str, Any]] = []
    started: list[Server] = []
    try:
        for app, server in apps.items():
            try:
                server.start()
                started.append(server)
            except RuntimeError as exc:
                ctx.notes.append(f"{app} did not start: {exc}; log tail: {server.log_tail(300)!r}")
        upstreams = {name: s.url for name, s in apps.items() if s in started}
        gateway = app_server(ctx, "gateway", app_env(ctx, upstreams))
        gateway.start()
        started.insert(0, gateway)
        time.sleep(1.0)
        idle = {s.name: s.rss() / 2**20 for s in started}
        load_rows: list[dict[str, Any]] = []
        catalog = apps["catalog"]
        if catalog in started and seeded:
            path = "/api/v1/catalog/categories"
            for via, base, procs in (
                ("direct", catalog.url, {"service": catalog}),
                ("gateway → service", gateway.url, {"service": catalog, "hop": gateway}),
            ):
                row = measure(ctx, base + path, procs)
                row.update(endpoint="catalog /categories (SQLite)", path=via)
                load_rows.append(row)
            _add_ratios(load_rows)
        for s in started:
            if s.name in ("proxy", "stations") or (s.name == "catalog" and not load_rows):
                measure(ctx, s.url + "/healthz", {s.name: s})
        for s in started:
            rows.append(
                {
                    "app": s.name,
                    "startup_s": s.startup_seconds,
                    "idle_rss_mib": idle[s.name],
                    "load_rss_mib": max(s.rss_samples) / 2**20,
                }
            )
    finally:
        for s in reversed(started):
            s.stop()
    return {"rows": rows, "catalog": load_rows, "seeded": seeded, "test_runs": suite_runs()}


def suite_runs(last: int = 5) -> list[dict[str, Any]]:
    """The last whole-suite runs of ``make test`` on this checkout, as tests/conftest.py records
    them in var/test-runs.jsonl (wall time, backends, tests collected, failures)."""
    log = common.REPO_ROOT / "var" / "test-runs.jsonl"
    if not log.exists():
        return []
    runs = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines() if line.strip()]
    return runs[-last:]


def script_timeout(script: Path) -> float:
    """A script's own time bound, from a ``# bench-timeout: <seconds>`` line (0: none)."""
    match = re.search(r"^# bench-timeout: (\d+)$", script.read_text(encoding="utf-8"), re.MULTILINE)
    return float(match.group(1)) if match else 0.0


def section_modules(ctx: Context) -> dict[str, Any]:
    """Every other bench/bench_*.py script, as a subprocess with a time bound."""
    out: list[dict[str, Any]] = []
    for script in sorted(common.BENCH_DIR.glob("bench_*.py")):
        cmd = [common.PYTHON, str(script)] + (["--quick"] if ctx.plan.quick else [])
        env = ctx.base_env()
        for app in ("gateway", "catalog", "proxy", "stations"):
            env[f"DOORSTEP_{app.upper()}_VAR_DIR"] = str(ctx.tmp / f"mod-{script.stem}")
        if ctx.pg_ok:  # the scripts that also run on PostgreSQL read one or the other
            env["BENCH_PG_URL"] = env["DOORSTEP_BENCH_DATABASE_URL"] = ctx.pg_url
        started = time.monotonic()
        timeout = max(ctx.plan.module_timeout, script_timeout(script))
        try:
            done = subprocess.run(
                cmd,
                env=env,
                cwd=common.REPO_ROOT,
                capture_output=True,
                text=True,
                timeout=timeout,
            )
            status = "ok" if done.returncode == 0 else f"exit {done.returncode}"
            output = done.stdout.strip()
            if done.returncode != 0:
                output += "\n" + done.stderr.strip()[-1500:]
        except subprocess.TimeoutExpired as exc:
            status = f"timed out after {timeout:.0f} s"
            output = (
                (exc.stdout or b"").decode(errors="replace") if isinstance(exc.stdout, bytes) else (exc.stdout or "")
            )
        out.append(
            {
                "module": script.name,
                "status": status,
                "seconds": time.monotonic() - started,
                "output": output,
            }
        )
        print(f"  {script.name}: {status} ({time.monotonic() - started:.1f} s)", flush=True)
    return {"rows": out}


SECTIONS: dict[str, Callable[[Context], dict[str, Any]]] = {
    "hop": section_hop,
    "read": section_read,
    "resources": section_resources,
    "modules": section_modules,
}


# --- the report -----------------------------------------------------------------------------


def _cpu(row: dict[str, Any], name: str) -> str:
    value = row.get("cpu_us", {}).get(name)
    return f"{value:,.0f}" if value is not None else "—"


def _ok(flag: bool) -> str:
    return "**met**" if flag else "**not met**"


def render(report: dict[str, Any]) -> str:
    m = report["machine"]
    out = [
        f"# Doorstep benchmarks — {report['date']}",
        "",
        f"Command: `{report['command']}` ({'quick' if report['quick'] else 'full'} run, "
        f"{report['seconds_per_run']:g} s per load run, load by {report['load_tool']}), "
        f"took {report['wall_seconds']:.0f} s.",
        "",
        f"Machine: {m['cpu_model']}, {m['cores']} cores, {m['ram_gib']} GiB RAM, {m['os']}, "
        f"kernel {m['kernel']}, Python {m['python']}; {m['wrk'] or 'no wrk'}; {m['nginx'] or 'no nginx'}.",
        "Versions: " + ", ".join(f"{k} {v}" for k, v in m["packages"].items() if v) + ".",
        "",
        "All processes unpinned on the same machine (load generator included); one uvicorn "
        "worker per app; CPU from /proc/<pid>/stat.",
        "",
    ]
    hop = report["sections"].get("hop")
    if hop and "rows" in hop:
        out += ["## Gateway hop", ""]
        rows = [
            [
                r["endpoint"],
                r["connections"],
                r["path"],
                fmt_int(r["rps"]),
                f"{r['ratio']:.2f}×" if r.get("ratio") is not None else "—",
                f"{r['p50_ms']:.2f}",
                f"{r['p99_ms']:.2f}",
                f"{r['added_p50_ms']:+.2f}" if r["path"] != "direct" else "",
                _cpu(r, "hop"),
                _cpu(r, "service"),
                r["errors"],
            ]
            for r in hop["rows"]
        ]
        out.append(
            md_table(
                [
                    "endpoint",
                    "conns",
                    "path",
                    "req/s",
                    "vs direct",
                    "p50 ms",
                    "p99 ms",
                    "added p50",
                    "hop CPU µs/req",
                    "service CPU µs/req",
                    "errors",
                ],
                rows,
            )
        )
        g = hop["goals"]
        out += [
            "",
            "Goals: gateway CPU per proxied request (small JSON, 32 connections) "
            f"{_num(g['gateway_cpu_us'], '.0f')} µs ≤ {GOAL_CPU_US:.0f} µs "
            f"{_ok(g['gateway_cpu_ok'])} (on the realistic endpoint: "
            f"{_num(g['gateway_cpu_realistic_us'], '.0f')} µs); realistic endpoint throughput "
            f"{_num(g['throughput_ratio'], '.2f')}× direct ≥ {GOAL_THROUGHPUT}× "
            f"{_ok(g['throughput_ok'])}; added p50 at 1 connection "
            f"{_num(g['added_p50_ms'], '.2f')} ms "
            f"≤ {GOAL_ADDED_P50_MS} ms {_ok(g['added_p50_ok'])}.",
            "",
        ]
    read = report["sections"].get("read")
    if read and "rows" in read:
        out += ["## Read path (token check + one row by primary key + response model)", ""]
        rows = [
            [
                r["backend"],
                r["variant"],
                fmt_int(r["rps"]),
                f"{r['ratio_vs_raw']:.2f}×" if r.get("ratio_vs_raw") else "—",
                f"{r['p50_ms']:.2f}",
                f"{r['p99_ms']:.2f}",
                _cpu(r, "service"),
                f"{r['cpu_ratio_vs_raw']:.2f}×" if r.get("cpu_ratio_vs_raw") else "—",
                r["errors"],
            ]
            for r in read["rows"]
        ]
        out.append(
            md_table(
                [
                    "backend",
                    "variant",
                    "req/s",
                    "req/s vs raw asyncpg",
                    "p50 ms",
                    "p99 ms",
                    "CPU µs/req",
                    "raw CPU / this CPU",
                    "errors",
                ],
                rows,
            )
        )
        g = read["goals"]
        out += [
            "",
            f"Goal: ≥ {GOAL_READ_RATIO:.0%} of raw asyncpg's req/s (same token check, PostgreSQL): "
            f"the services' hot-read path (hot_read + HotQuery, issue 23 part 2) {_num(g.get('hot_ratio'), '.2f')}× "
            f"{_ok(bool(g.get('hot_ok')))}; the other reads' path (DbSession + repository Core row) "
            f"{_num(g['repository_ratio'], '.2f')}× "
            f"{_ok(g['repository_ok'])}; DbSession + ORM entity {_num(g['orm_ratio'], '.2f')}× "
            f"{_ok(g['orm_ok'])}; as before part 2b (pre-ping, BEGIN/COMMIT, ORM) "
            f"{_num(g['before_ratio'], '.2f')}× {_ok(g['before_ok'])}.",
            "",
        ]
    res = report["sections"].get("resources")
    if res and "rows" in res:
        out += ["## Resources", ""]
        out.append(
            md_table(
                ["app", "start-up s (to first 200 /healthz)", "idle RSS MiB", "under-load RSS MiB"],
                [
                    [r["app"], f"{r['startup_s']:.2f}", f"{r['idle_rss_mib']:.0f}", f"{r['load_rss_mib']:.0f}"]
                    for r in res["rows"]
                ],
            )
        )
        if res.get("catalog"):
            out += ["", "Real catalog endpoint, direct and through the gateway:", ""]
            out.append(
                md_table(
                    [
                        "endpoint",
                        "path",
                        "req/s",
                        "vs direct",
                        "p50 ms",
                        "p99 ms",
                        "gateway CPU µs/req",
                        "catalog CPU µs/req",
                        "errors",
                    ],
                    [
                        [
                            r["endpoint"],
                            r["path"],
                            fmt_int(r["rps"]),
                            f"{r['ratio']:.2f}×",
                            f"{r['p50_ms']:.2f}",
                            f"{r['p99_ms']:.2f}",
                            _cpu(r, "hop"),
                            _cpu(r, "service"),
                            r["errors"],
                        ]
                        for r in res["catalog"]
                    ],
                )
            )
        out.append("")
    if res and res.get("test_runs") is not None:
        out += ["", "`make test` wall time (the last whole-suite runs on this checkout, from var/test-runs.jsonl):", ""]
        if res["test_runs"]:
            out.append(
                md_table(
                    ["finished (UTC)", "wall s", "backends", "tests", "failed", "exit"],
                    [
                        [
                            r["finished_at"],
                            f"{r['seconds']:.0f}",
                            "+".join(r["backends"]),
                            r["tests"],
                            r["failed"],
                            r["exit"],
                        ]
                        for r in res["test_runs"]
                    ],
                )
            )
        else:
            out.append("no whole-suite run recorded yet: run `make test` first")
        out.append("")
    mods = report["sections"].get("modules")
    if mods and "rows" in mods:
        out += ["## Other benchmarks", ""]
        for r in mods["rows"]:
            out += [
                f"### {r['module']} ({r['status']}, {r['seconds']:.1f} s)",
                "",
                "```",
                r["output"].rstrip(),
                "```",
                "",
            ]
    for name, sec in report["sections"].items():
        if "error" in sec:
            out += [f"**Section {name} failed:** `{sec['error']}`", ""]
    if report["notes"]:
        out += ["## Notes", ""] + [f"- {n}" for n in report["notes"]] + [""]
    return "\n".join(out)


def _num(value: float | None, spec: str) -> str:
    return "—" if value is None else format(value, spec)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Doorstep benchmarks (see bench/README.md)")
    parser.add_argument("--quick", action="store_true", help="short runs, about a minute")
    parser.add_argument("--only", action="append", choices=sorted(SECTIONS), help="run only these sections")
    parser.add_argument("--loadgen", action="store_true", help="use bench/loadgen.py even if wrk exists")
    parser.add_argument("--no-save", action="store_true", help="do not write bench/results/")
    parser.add_argument("--keep-tmp", action="store_true", help="keep the temp dir (logs)")
    args = parser.parse_args(argv)
    plan = Plan.of(args.quick)
    started = time.monotonic()
    tmp = Path(tempfile.mkdtemp(prefix="doorstep-bench-"))
    ctx = Context(plan, tmp, args.loadgen)
    if common.wrk_binary() is None and not args.loadgen:
        ctx.notes.append("wrk is not installed: load came from bench/loadgen.py (apt-get install wrk).")
    tool = "bench/loadgen.py" if args.loadgen or common.wrk_binary() is None else "wrk"
    report: dict[str, Any] = {
        "date": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "command": ".venv/bin/python bench/run.py" + (" --quick" if args.quick else ""),
        "quick": plan.quick,
        "seconds_per_run": plan.seconds,
        "connections": plan.connections,
        "load_tool": tool,
        "machine": common.machine(),
        "sections": {},
        "notes": ctx.notes,
    }
    print(f"Doorstep benchmarks ({'quick' if plan.quick else 'full'}; load: {tool}; temp: {tmp})")
    try:
        for name in args.only or list(SECTIONS):
            t0 = time.monotonic()
            print(f"- {name} …", flush=True)
            try:
                report["sections"][name] = SECTIONS[name](ctx)
            except Exception as exc:
                traceback.print_exc()
                report["sections"][name] = {"error": f"{type(exc).__name__}: {exc}"[:500]}
            print(f"  {name} done in {time.monotonic() - t0:.1f} s", flush=True)
    finally:
        if not args.keep_tmp:
            shutil.rmtree(tmp, ignore_errors=True)
    report["wall_seconds"] = time.monotonic() - started
    text = render(report)
    print()
    print(text)
    if not args.no_save:
        results = common.BENCH_DIR / "results"
        results.mkdir(exist_ok=True)
        stamp = dt.datetime.now().strftime("%Y-%m-%d-%H%M%S") + ("-quick" if plan.quick else "")
        (results / f"{stamp}.json").write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
        (results / f"{stamp}.md").write_text(text + "\n")
        print(f"\nWrote bench/results/{stamp}.json and .md")
    failed = [n for n, s in report["sections"].items() if "error" in s]
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
