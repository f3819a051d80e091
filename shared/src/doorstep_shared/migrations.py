"""Alembic, driven from code: one migration history per service, SQLite and PostgreSQL alike.

Each service package has ``migrations/`` (``env.py`` calls :func:`run_env`). The CLI:
``python -m doorstep_shared.migrations upgrade catalog`` (also ``downgrade``, ``revision``,
``current``, ``check``).
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import sys
from typing import Any, Literal

from alembic import command, context
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import MetaData, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from .db import UTCDateTime, create_engine, is_sqlite

SERVICES = {
    "gateway": "doorstep_gateway",
    "catalog": "doorstep_catalog",
    "proxy": "doorstep_proxy",
    "stations": "doorstep_stations",
}


def alembic_config(package: str, url: str, schema: str | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", f"{package}:migrations")
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    cfg.attributes["schema"] = schema
    return cfg


def head_revision(package: str) -> str | None:
    script = ScriptDirectory.from_config(alembic_config(package, "sqlite://"))
    return script.get_current_head()


def known_revisions(package: str) -> frozenset[str]:
    script = ScriptDirectory.from_config(alembic_config(package, "sqlite://"))
    return frozenset(rev.revision for rev in script.walk_revisions())


def upgrade(package: str, url: str, schema: str | None = None, revision: str = "head") -> None:
    """Bring the database to ``revision``. Blocking: call via ``asyncio.to_thread`` from async code."""
    command.upgrade(alembic_config(package, url, schema), revision)


def downgrade(package: str, url: str, schema: str | None = None, revision: str = "base") -> None:
    command.downgrade(alembic_config(package, url, schema), revision)


async def current_revision(engine: AsyncEngine) -> str | None:
    async with engine.connect() as conn:

        def _read(sync_conn: Connection) -> str | None:
            return MigrationContext.configure(sync_conn).get_current_revision()

        return await conn.run_sync(_read)


def run_env(metadata: MetaData) -> None:
    """The body of every service's ``migrations/env.py``."""
    cfg = context.config
    url = cfg.get_main_option("sqlalchemy.url")
    assert url
    schema: str | None = cfg.attributes.get("schema")
    sqlite = is_sqlite(url)

    def render_item(type_: str, obj: Any, autogen_context: Any) -> str | Literal[False]:
        # Migrations stay free of application imports: UTCDateTime is a plain aware DateTime.
        if type_ == "type" and isinstance(obj, UTCDateTime):
            return "sa.DateTime(timezone=True)"
        return False

    def configure(conn: Connection | None = None, **kwargs: Any) -> None:
        context.configure(
            connection=conn,
            target_metadata=metadata,
            render_as_batch=sqlite,
            compare_type=True,
            render_item=render_item,
            **kwargs,
        )

    if context.is_offline_mode():
        configure(url=url, literal_binds=True)
        with context.begin_transaction():
            context.run_migrations()
        return

    def do_run(conn: Connection) -> None:
        if sqlite:
            conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
        configure(conn)
        with context.begin_transaction():
            context.run_migrations()
        if sqlite:
            conn.exec_driver_sql("PRAGMA foreign_keys=ON")

    async def main() -> None:
        engine = create_engine(url, schema=schema, null_pool=True)
        try:
            if schema and not sqlite:
                async with engine.begin() as conn:
                    await conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
            async with engine.connect() as conn:
                await conn.run_sync(do_run)
                await conn.commit()
        finally:
            await engine.dispose()

    asyncio.run(main())


def _settings_for(service: str) -> Any:
    module = importlib.import_module(f"{SERVICES[service]}.config")
    return module.get_settings()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m doorstep_shared.migrations")
    parser.add_argument("action", choices=["upgrade", "downgrade", "revision", "current", "check"])
    parser.add_argument("services", nargs="*", default=list(SERVICES), help="default: all")
    parser.add_argument("-m", "--message", default="change")
    parser.add_argument("--revision", default=None)
    args = parser.parse_args(argv)
    for service in args.services:
        settings = _settings_for(service)
        settings.var_dir.mkdir(parents=True, exist_ok=True)
        package = SERVICES[service]
        cfg = alembic_config(package, settings.database_url, settings.database_schema)
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
