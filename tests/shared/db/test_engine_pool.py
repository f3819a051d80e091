"""The PostgreSQL pool keeps the connections it opened, up to ``pool_size`` (the apps' default is
16: with 10 kept, 16 concurrent reads opened and closed a connection on most requests,
bench/README.md "Resident reads"), and opens a quarter more only for a moment: the same ceiling
per app as the old 10 + 10, so ``max_connections`` arithmetic holds (deploy/README.md)."""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack

import pytest
from sqlalchemy import text

from doorstep_shared.config import ServiceSettings
from doorstep_shared.db.engine import create_engine

from ...support import PG_URL


async def test_the_pool_keeps_its_size_and_opens_a_quarter_more_at_most(db_backend: str) -> None:
    if db_backend != "postgresql":
        pytest.skip("PostgreSQL only: SQLite's engine has no connection pool of this kind")
    assert ServiceSettings.model_fields["database_pool_size"].default == 16
    engine = create_engine(PG_URL, pool_size=8)
    try:
        async with AsyncExitStack() as stack:
            conns = [await stack.enter_async_context(engine.connect()) for _ in range(10)]
            await asyncio.gather(*(conn.execute(text("SELECT 1")) for conn in conns))
            assert engine.pool.overflow() == 2  # type: ignore[attr-defined]
            with pytest.raises(TimeoutError):  # the eleventh waits for one to come back
                async with asyncio.timeout(0.5):
                    await stack.enter_async_context(engine.connect())
        assert engine.pool.checkedin() == 8  # type: ignore[attr-defined]  # kept; the two extra closed
    finally:
        await engine.dispose()
