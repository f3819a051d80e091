"""`make run`: migrate every database, load the demo data once, start the four apps, supervise.

Ctrl-C stops all four; if one dies the others are stopped and the exit code is non-zero.
Hosts and ports come from each app's settings (``DOORSTEP_<APP>_HOST`` / ``_PORT``).
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import os
import signal
import subprocess
import sys
import threading
import time
from typing import IO, Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from doorstep_shared.auth.service_keys import ensure_dev_service_keys
from doorstep_shared.config import AuditSettings
from doorstep_shared.db.engine import create_engine
from doorstep_shared.db.session import make_sessionmaker
from doorstep_shared.directory import demo_directory_file

from .apps import APPS, DEMO_LOGINS, SERVICES, settings_of
from .migrate import upgrade_all

# uvicorn's ``--http`` for every app: httptools with the response head and body in one send().
HTTP_PROTOCOL = "doorstep_tools.launcher:CoalescingHttpToolsProtocol"
_HOLD_AT_MOST = 16 * 1024  # bytes; larger writes go out at once, so flow control sees them


class CoalescingTransport:
    """Holds one small write until the next write or the end of this event-loop turn.

    uvicorn writes a response's head and its body in two ``transport.write`` calls, so a small
    answer costs two ``send()`` system calls and wakes the reader twice (on loopback the
    reader's TCP work is charged to the writer). Joined, it is one. At most one small chunk is
    held, never past the current turn of the loop, so nothing waits and buffering is bounded.
    """

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._held: bytes | None = None

    def write(self, data: bytes) -> None:
        held = self._held
        if held is not None:
            self._held = None
            self._transport.write(held + data)
        elif len(data) <= _HOLD_AT_MOST:
            self._held = bytes(data)
            self._loop.call_soon(self._flush)
        else:
            self._transport.write(data)

    def writelines(self, chunks: Any) -> None:
        self.write(b"".join(chunks))  # after anything held, never around it

    def _flush(self) -> None:
        held, self._held = self._held, None
        if held is not None and not self._transport.is_closing():
            self._transport.write(held)

    def close(self) -> None:
        self._flush()
        self._transport.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class CoalescingHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol writing through a :class:`CoalescingTransport`."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(CoalescingTransport(transport, self.loop))  # type: ignore[arg-type]


async def seed_all() -> None:
    for app in APPS:
        s = settings_of(app)
        seed = importlib.import_module(f"{SERVICES[app]}.seed").seed
        engine = create_engine(s.database_url, schema=s.database_schema)
        try:
            trust = s.audit_trust() if isinstance(s, AuditSettings) else None
            async with make_sessionmaker(engine, audit=trust)() as session:
                await seed(session)
                await session.commit()
        finally:
            await engine.dispose()


# The demo's service window on the public sheets (a deployment configures its own; see README).
DEMO_SERVICE_WINDOW = {
    "NAME": "社区综合服务窗口（演示）",
    "ADDRESS": "演示地址：社区党群服务中心一楼",
    "PHONE": "演示电话：0000-0000000",
    "HOURS": "周一至周五 8:30–12:00、14:30–17:30（法定节假日除外）",
}


def _child_env() -> dict[str, str]:
    env = dict(os.environ)
    gw = settings_of("gateway")
    base = f"http://{gw.host}:{gw.port}"
    for app in APPS[1:]:
        s = settings_of(app)
        env.setdefault(f"DOORSTEP_GATEWAY_{app.upper()}_URL", f"http://{s.host}:{s.port}")
        env.setdefault(f"DOORSTEP_{app.upper()}_JWKS_URL", f"{base}/.well-known/jwks.json")
        # The services follow the gateway's directory export; until it answers (404 from a
        # gateway without it, or refused while it starts) the demo directory file stands in.
        env.setdefault(f"DOORSTEP_{app.upper()}_DIRECTORY_URL", base)
        env.setdefault(f"DOORSTEP_{app.upper()}_DIRECTORY_FILE", str(demo_directory_file()))
    catalog = settings_of("catalog")
    env.setdefault("DOORSTEP_PROXY_CATALOG_URL", f"http://{catalog.host}:{catalog.port}")
    # Residents reach the public sheet through the gateway: its QR code points there.
    env.setdefault("DOORSTEP_CATALOG_PUBLIC_BASE_URL", base)
    for name, value in DEMO_SERVICE_WINDOW.items():
        env.setdefault(f"DOORSTEP_CATALOG_SERVICE_WINDOW_{name}", value)
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


def start(app: str, env: dict[str, str]) -> subprocess.Popen[bytes]:
    s = settings_of(app)
    cmd = [
        sys.executable,
        "-m",
        "uvicorn",
        f"{SERVICES[app]}.main:create_app",
        "--factory",
        "--host",
        s.host,
        "--port",
        str(s.port),
        "--no-access-log",
        "--no-server-header",
        # uvicorn would trust X-Forwarded-For from 127.0.0.1, where every local client connects:
        # the gateway trusts only DOORSTEP_GATEWAY_FORWARDED_ALLOW_IPS itself.
        "--no-proxy-headers",
        "--http",
        HTTP_PROTOCOL,
        "--timeout-graceful-shutdown",
        "10",
    ]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)  # noqa: S603
    assert proc.stdout is not None
    threading.Thread(target=relay, args=(app, proc.stdout, sys.stdout), daemon=True).start()
    return proc


def relay(app: str, source: IO[bytes], sink: IO[str]) -> None:
    """Copy an app's output line by line, each line prefixed with the app's name.

    Four apps print to one terminal under `make run`; without a prefix their lines interleave
    anonymously. Only the launcher (development) prefixes: in production each app's log stream
    is its own and stays JSON (deploy/entrypoint.sh starts uvicorn directly).
    """
    prefix = f"{app:<8} | "
    for raw in iter(source.readline, b""):
        sink.write(prefix + raw.decode(errors="replace").rstrip("\r\n") + "\n")
        sink.flush()
    source.close()


def banner() -> None:
    gw = settings_of("gateway")
    base = f"http://{gw.host}:{gw.port}"
    print("\nDoorstep is starting:")
    for app in APPS:
        s = settings_of(app)
        print(f"  {app:9s} http://{s.host}:{s.port}   (docs: http://{s.host}:{s.port}/docs)")
    print(
        f"\nOpen {base}/docs and press Authorize. Demo logins (password: $DOORSTEP_DEMO_PASSWORD, default doorstep-demo):"
    )
    for username, what in DEMO_LOGINS:
        print(f"  {username:17s} {what}")
    print("Press Ctrl-C to stop.\n", flush=True)


def supervise(procs: dict[str, subprocess.Popen[bytes]]) -> int:
    stopping = False

    def on_signal(signum: int, _frame: Any) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    failed: tuple[str, int] | None = None
    while not stopping:
        for name, proc in procs.items():
            code = proc.poll()
            if code is not None:
                failed = (name, code)
                stopping = True
                break
        time.sleep(0.2)
    for proc in procs.values():
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 15
    for proc in procs.values():
        try:
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()
    if failed is not None:
        name, code = failed
        print(f"\n{name} exited with code {code}; stopped the others.", file=sys.stderr)
        return code or 1
    print("\nDoorstep stopped.")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m doorstep_tools.launcher")
    parser.add_argument("--seed-only", action="store_true", help="migrate and load demo data, then exit")
    parser.add_argument("--no-seed", action="store_true", help="do not load demo data")
    args = parser.parse_args(argv)
    print("Applying migrations …", flush=True)
    upgrade_all(APPS)
    if not args.no_seed:
        print("Loading demo data (once; existing data is kept) …", flush=True)
        asyncio.run(seed_all())
    # The services' own keys (development): made once, before any app starts, so every app
    # trusts the same public halves from the first request (production: deploy/README.md).
    ensure_dev_service_keys(settings_of("proxy").service_keys_dir)
    if args.seed_only:
        return 0
    env = _child_env()
    procs = {app: start(app, env) for app in APPS}
    banner()
    return supervise(procs)


if __name__ == "__main__":
    raise SystemExit(main())
