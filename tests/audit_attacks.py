"""What an outside probe did to copies of the apps' databases (issue 17, part 2): three ways an
operator with full database access rewrites an audit log so that its rows still chain.

Each attack works on an app's engine with plain SQL, as someone holding the database (and
neither the audit keys nor the checkpoint anchor) would.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from doorstep_shared.db.audit import GENESIS, _canonical

Attack = Callable[[AsyncEngine], Awaitable[None]]


async def truncate_newest(engine: AsyncEngine, keep: int = 1) -> None:
    """(a) Delete every entry after the first ``keep`` and rewind the head to the last one kept."""
    async with engine.begin() as conn:
        kept = (
            await conn.execute(text("SELECT id, hash FROM audit_log ORDER BY id LIMIT 1 OFFSET :n"), {"n": keep - 1})
        ).one()
        await conn.execute(text("DELETE FROM audit_log WHERE id > :id"), {"id": kept.id})
        await conn.execute(text("UPDATE audit_head SET last_id = :id, last_hash = :h"), {"id": kept.id, "h": kept.hash})


async def edit_and_rehash(engine: AsyncEngine, *, drop_key_ids: bool = True) -> None:
    """(b) Edit the second entry, then re-hash the whole chain with plain SHA-256 (no key) and
    move the head along; ``drop_key_ids`` also passes every entry off as one from before keys."""
    async with engine.begin() as conn:
        ids = [r.id for r in (await conn.execute(text("SELECT id FROM audit_log ORDER BY id"))).all()]
        await conn.execute(text("UPDATE audit_log SET actor = 'someone.else' WHERE id = :id"), {"id": ids[1]})
        if drop_key_ids:
            await conn.execute(text("UPDATE audit_log SET key_id = NULL"))
        prev = GENESIS
        for row in (await conn.execute(text("SELECT * FROM audit_log ORDER BY id"))).mappings().all():
            entry = {**row, "prev_hash": prev}
            digest = hashlib.sha256(_canonical(entry)).hexdigest()
            await conn.execute(
                text("UPDATE audit_log SET prev_hash = :p, hash = :h WHERE id = :id"),
                {"p": prev, "h": digest, "id": row["id"]},
            )
            prev = digest
        await conn.execute(text("UPDATE audit_head SET last_hash = :h"), {"h": prev})


async def empty_log_and_head(engine: AsyncEngine) -> None:
    """(c) Delete every entry and the head row."""
    async with engine.begin() as conn:
        await conn.execute(text("DELETE FROM audit_log"))
        await conn.execute(text("DELETE FROM audit_head"))


ATTACKS: dict[str, tuple[Attack, int, str]] = {
    # name: (attack, first bad position after 3 entries, words the reason says)
    "truncate_newest": (truncate_newest, 2, "newest entries were removed"),
    "edit_and_rehash": (edit_and_rehash, 1, "re-hashed without the key"),
    "edit_and_rehash_keeping_key_ids": (
        lambda engine: edit_and_rehash(engine, drop_key_ids=False),
        1,  # re-hashed from the first entry on: its plain hash is not its MAC
        "edited",
    ),
    "empty_log_and_head": (empty_log_and_head, 1, "emptied"),
}
