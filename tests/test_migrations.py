"""Every service's migrations upgrade from empty to head and downgrade back, on both databases,
and the models match the migrations (no drift)."""

from __future__ import annotations

import asyncio

import pytest
from alembic import command
from alembic.util.exc import CommandError
from sqlalchemy import inspect

from doorstep_shared.db import migrations
from doorstep_shared.db.engine import create_engine

from .support import create_database, drop_database

PACKAGES = ["doorstep_gateway", "doorstep_catalog", "doorstep_proxy", "doorstep_stations"]


async def table_names(url: str, schema: str | None) -> set[str]:
    engine = create_engine(url, schema=schema, null_pool=True)
    try:
        async with engine.connect() as conn:
            return set(await conn.run_sync(lambda c: inspect(c).get_table_names(schema=schema)))
    finally:
        await engine.dispose()


@pytest.mark.parametrize("package", PACKAGES)
async def test_upgrade_from_empty_then_downgrade_back(
    package: str, db_backend: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    db = await create_database(package, db_backend, tmp_path_factory.mktemp("mig"))
    try:
        assert len(await table_names(db.url, db.schema)) > 1
        cfg = migrations.alembic_config(package, db.url, db.schema)
        # No drift: the models and the migration history agree.
        try:
            await asyncio.to_thread(command.check, cfg)
        except CommandError as exc:
            pytest.fail(f"{package}: models and migrations differ: {exc}")
        await asyncio.to_thread(migrations.downgrade, package, db.url, db.schema, "base")
        assert await table_names(db.url, db.schema) <= {"alembic_version"}
        await asyncio.to_thread(migrations.upgrade, package, db.url, db.schema)
        assert len(await table_names(db.url, db.schema)) > 1
    finally:
        await drop_database(db)
