"""The demo data the launcher loads (``doorstep_tools.launcher`` calls ``<package>.seed.seed``):
the steps of ``demo/`` in order. Idempotent: a second seed adds only what is missing (and today's
visits of the demo's scheduled cases)."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from doorstep_shared.pii import PiiCipher

from .config import get_settings
from .demo.cases import seed_cases
from .demo.four_clears import demo_directory, seed_compounds, seed_demands, seed_residents, seed_workers
from .discovery.runs import queue_changed_residents
from .events.residents import residents_changed

__all__ = ["seed", "seed_compounds"]


async def seed(session: AsyncSession, cipher: PiiCipher | None = None) -> None:
    # As in create_app (the launcher seeds without an app): seeded residents are queued for discovery.
    residents_changed.subscribe(queue_changed_residents)
    directory = demo_directory()
    await seed_compounds(session, directory)
    await seed_workers(session)
    await seed_residents(session, cipher if cipher is not None else get_settings().pii_cipher())
    await seed_demands(session)
    await seed_cases(session)
