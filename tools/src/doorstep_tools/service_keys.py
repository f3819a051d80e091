"""Service keys for a deployment: ``python -m doorstep_tools.service_keys new proxy``.

Prints a new key pair for one service: the private line goes to that service only
(``DOORSTEP_PROXY_SERVICE_KEY``), the public line is added to the trust list of the services it
calls (``DOORSTEP_CATALOG_TRUSTED_SERVICE_KEYS``, comma-separated; old and new during a rotation).
deploy/README.md, "Service keys", has the whole procedure.
"""

from __future__ import annotations

import argparse
import sys

from doorstep_shared.auth.service_keys import SERVICE_GRANTS, ServiceKey
from doorstep_shared.clock import utcnow


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m doorstep_tools.service_keys")
    commands = parser.add_subparsers(dest="command", required=True)
    new = commands.add_parser("new", help="print a new key pair for a service")
    new.add_argument("service", choices=sorted(SERVICE_GRANTS))
    new.add_argument("--kid", help="key id (default: <service>-<yyyymmdd>-<random>)")
    new.add_argument("--env", action="store_true", help="print `private=…` and `public=…` for a script")
    args = parser.parse_args(argv)
    kid = args.kid or f"{args.service}-{utcnow():%Y%m%d}-{ServiceKey.generate(args.service).kid[-8:]}"
    key = ServiceKey.generate(args.service, kid)
    if args.env:
        sys.stdout.write(f"private={key.to_config()}\npublic={key.public_config()}\n")
        return 0
    sys.stdout.write(
        f"DOORSTEP_{args.service.upper()}_SERVICE_KEY={key.to_config()}\n"
        f"# add to DOORSTEP_<CALLED>_TRUSTED_SERVICE_KEYS (comma-separated) of every service it calls:\n"
        f"{key.public_config()}\n"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
