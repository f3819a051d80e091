"""Profile the gateway while it proxies the small endpoint of bench/apps/echo.py.

    .venv/bin/python bench/profile_gateway.py [--seconds 5] [--connections 32] [--html out.html]

Starts the echo service and the gateway (the gateway under pyinstrument), loads the gateway
with wrk (or bench/loadgen.py) and prints pyinstrument's text profile of the gateway process.

Both profilers time by the wall clock: a ``transport.write`` that wakes another process on a
busy machine absorbs the time until the gateway is scheduled again, so system calls look far
dearer than the CPU they use (``perf`` on this machine: ~16 % of the gateway's CPU is kernel).
Compare Python functions with each other, and CPU per request with bench/run.py.
"""

from __future__ import annotations

import argparse
import json
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import common
from bench.run import Context, Plan, echo_server, gateway_server, launcher_options


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--path", default="/api/v1/catalog/bench/small")
    parser.add_argument("--html", help="write pyinstrument's HTML profile here instead")
    parser.add_argument("--cprofile", action="store_true", help="cProfile (CPU per function) instead of pyinstrument")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="doorstep-profile-"))
    ctx = Context(Plan.of(True), tmp, force_loadgen=False)
    service = echo_server(ctx, "service", f"sqlite+aiosqlite:///{tmp / 'p.db'}", None)
    service.cmd += launcher_options()
    gateway = gateway_server(ctx, {"catalog": service.url})
    out = tmp / "profile.txt"
    if args.cprofile:
        gateway.cmd = [common.PYTHON, "-m", "cProfile", "-o", str(tmp / "gw.prof"), *gateway.cmd[1:]]
    else:
        renderer = ["-r", "html", "-o", args.html] if args.html else ["-r", "text", "-o", str(out)]
        gateway.cmd = [common.PYTHON, "-m", "pyinstrument", "-i", "0.0005", *renderer, *gateway.cmd[1:]]
    try:
        with common.serving([service, gateway]):
            url = gateway.url + args.path
            result = common.load(url, connections=args.connections, seconds=args.seconds, headers=ctx.auth)
            print(json.dumps(result.as_dict()))
            assert gateway.proc is not None
            gateway.proc.send_signal(signal.SIGINT)
            gateway.proc.wait(timeout=60)
            time.sleep(0.2)
        if args.cprofile:
            import pstats

            stats = pstats.Stats(str(tmp / "gw.prof"))
            stats.sort_stats("tottime").print_stats(35)
            stats.sort_stats("cumulative").print_stats(
                r"(doorstep_|ratelimit|limits/aio/strateg|observability|proxy_headers|client\.py.*_request|"
                r"telemetry|errors\.py.*__call__|exceptions\.py.*__call__|httptools_impl.*(send|run_asgi))"
            )
            print(f"requests: {result.requests}")
        elif not args.html:
            print(out.read_text())
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
