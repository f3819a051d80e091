"""Migrations for every app: ``python -m doorstep_tools.migrate upgrade [app ...]``.

Also ``downgrade``, ``revision`` (autogenerate), ``current`` and ``check``; default: every app.
Each app's database comes from its settings (``DOORSTEP_<APP>_DATABASE_URL``, SQLite under
``./var`` otherwise). The runner itself is ``doorstep_shared.db.migrations``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable

from alembic import command

from doorstep_shared.db.migrations import alembic_config, upgrade

from .apps import SERVICES, settings_of


def upgrade_all(apps: Iterable[str] = SERVICES) -> None:
    """Bring every app's database to its head (making ``var/`` first for SQLite)."""
    for app in apps:
        settings = settings_of(app)
        settings.var_dir.mkdir(parents=True, exist_ok=True)
        upgrade(SERVICES[app], settings.database_url, settings.database_schema)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m doorstep_tools.migrate")
    parser.add_argument("action", choices=["upgrade", "downgrade", "revision", "current", "check"])
    parser.add_argument("services", nargs="*", default=list(SERVICES), help="default: all")
    parser.add_argument("-m", "--message", default="change")
    parser.add_argument("--revision", default=None)
    args = parser.parse_args(argv)
    for service in args.services:
        settings = settings_of(service)
        settings.var_dir.mkdir(parents=True, exist_ok=True)
        cfg = alembic_config(SERVICES[service], settings.database_url, settings.database_schema)
        if args.action == "upgrade":
            command.upgrade(cfg, args.revision or "head")
        elif args.action == "downgrade":
            command.downgrade(cfg, args.revision or "-1")
        elif args.action == "revision":
            command.revision(cfg, message=args.message, autogenerate=True)
        elif args.action == "current":
            command.current(cfg, verbose=False)
        elif args.action == "check":
            command.check(cfg)
        print(f"{service}: {args.action} done", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
