"""Alembic, driven from code: one migration history per service, SQLite and PostgreSQL alike.

Each service package has ``migrations/`` (its ``env.py`` calls :func:`run_env`); the functions
here take that package's name. Which packages exist is not this library's business: the
migrate-all CLI is ``python -m doorstep_tools.migrate`` (tools/).
"""

from __future__ import annotations

import asyncio
from typing import Any, Literal

from alembic import command, context
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import MetaData, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from .columns import UTCDateTime
from .engine import create_engine, is_sqlite


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
