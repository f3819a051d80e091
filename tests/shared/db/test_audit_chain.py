"""The keyed audit chain and its checkpoints: entries from before keys, key rotation, forged
checkpoints (issue 17, part 2). The three attacks themselves run on the apps' own logs
(tests/gateway/clients, tests/proxy/test_audit_chain.py)."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import time_machine
from sqlalchemy import MetaData, insert, text
from sqlalchemy.ext.asyncio import AsyncEngine

from doorstep_shared.audit_anchor import AuditKeys, AuditTrust, FileAnchor
from doorstep_shared.clock import utcnow
from doorstep_shared.db.audit import GENESIS, AuditEvent, AuditLog, _canonical, audit_tables
from doorstep_shared.db.session import make_sessionmaker

from ...support import engine_with

metadata = MetaData()
log_table, head_table, pruned_table = audit_tables(metadata)
audit = AuditLog(log_table, head_table, pruned_table)


def key() -> str:
    return base64.urlsafe_b64encode(os.urandom(32)).decode()


@pytest.fixture
async def engine(db_backend: str, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    async with engine_with(metadata, db_backend, tmp_path) as eng:
        yield eng


def trust(tmp_path: Path, spec: str) -> AuditTrust:
    return AuditTrust(AuditKeys.from_config(spec), FileAnchor(tmp_path / "anchor.jsonl"))


async def append(engine: AsyncEngine, t: AuditTrust, n: int) -> None:
    async with make_sessionmaker(engine, audit=t)() as session:
        for i in range(n):
            await audit.append(session, AuditEvent("someone", "user", "thing.done", "thing", str(i)))
        await session.commit()


async def verify(engine: AsyncEngine, t: AuditTrust) -> dict[str, object]:
    async with make_sessionmaker(engine, audit=t)() as session:
        return (await audit.verify(session)).model_dump()


async def checkpoint(engine: AsyncEngine, t: AuditTrust) -> object:
    async with make_sessionmaker(engine, audit=t)() as session:
        return await audit.checkpoint(session)


async def legacy_entries(engine: AsyncEngine, n: int, prev: str = GENESIS) -> str:
    """Entries as the unkeyed chain wrote them before the upgrade (key_id NULL, plain SHA-256)."""
    async with engine.begin() as conn:
        for i in range(n):
            entry = {
                "at": utcnow(),
                "actor": "old",
                "actor_kind": "user",
                "action": "thing.done",
                "subject_type": "thing",
                "subject_id": str(i),
                "community": None,
                "outcome": "success",
                "details": {},
                "request_id": None,
                "prev_hash": prev,
            }
            entry["hash"] = prev = hashlib.sha256(_canonical(entry)).hexdigest()
            await conn.execute(insert(log_table).values(**entry))
        last = (await conn.execute(text("SELECT MAX(id) FROM audit_log"))).scalar_one()
        await conn.execute(text("DELETE FROM audit_head"))
        await conn.execute(insert(head_table).values(id=1, last_id=last, last_hash=prev))
    return prev


async def test_an_upgraded_log_keeps_its_unkeyed_entries_and_keys_every_new_one(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    last = await legacy_entries(engine, 2)
    t = trust(tmp_path, f"k1:{key()}")
    assert await checkpoint(engine, t) is not None  # what start-up does: pins the unkeyed entries
    assert await checkpoint(engine, t) is None  # nothing new: no second line
    await append(engine, t, 2)
    assert await verify(engine, t) == {"ok": True, "checked": 4, "broken_at": None, "position": None, "reason": None}
    async with engine.connect() as conn:
        kids = (await conn.execute(text("SELECT key_id FROM audit_log ORDER BY id"))).scalars().all()
    assert kids == [None, None, "k1", "k1"]
    # An unkeyed entry after the checkpoint can only come from someone without the key.
    async with engine.begin() as conn:
        await conn.execute(text("DELETE FROM audit_log WHERE id > 2"))
    await legacy_entries(engine, 1, prev=last)
    broken = await verify(engine, t)
    assert (broken["ok"], broken["position"]) == (False, 3)
    assert "re-hashed without the key" in str(broken["reason"])


async def test_rotated_keys_still_verify_old_entries_and_an_unknown_key_does_not(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    k1, k2 = key(), key()
    await append(engine, trust(tmp_path, f"k1:{k1}"), 2)
    rotated = trust(tmp_path, f"k2:{k2},k1:{k1}")
    await append(engine, rotated, 1)
    assert (await verify(engine, rotated))["ok"] is True
    async with engine.connect() as conn:
        kids = (await conn.execute(text("SELECT key_id FROM audit_log ORDER BY id"))).scalars().all()
    assert kids == ["k1", "k1", "k2"]
    forgotten = await verify(engine, trust(tmp_path, f"k2:{k2}"))
    assert forgotten["ok"] is False
    assert "unknown key id" in str(forgotten["reason"])


async def test_a_checkpoint_without_a_valid_signature_fails_verification(engine: AsyncEngine, tmp_path: Path) -> None:
    t = trust(tmp_path, f"k1:{key()}")
    await append(engine, t, 2)
    assert (await verify(engine, t))["ok"] is True
    anchor = tmp_path / "anchor.jsonl"
    anchor.write_text(anchor.read_text().replace('"count":2', '"count":1'))
    broken = await verify(engine, t)
    assert broken["ok"] is False
    assert "no valid signature" in str(broken["reason"])


async def prune(engine: AsyncEngine, t: AuditTrust, days: int) -> int:
    async with make_sessionmaker(engine, audit=t)() as session:
        pruned = await audit.prune_expired(session, days)
        await session.commit()
        return pruned


async def actions(engine: AsyncEngine) -> list[tuple[str, str]]:
    async with engine.connect() as conn:
        rows = (await conn.execute(text("SELECT action, outcome FROM audit_log ORDER BY id"))).all()
    return [(r[0], r[1]) for r in rows]


async def test_pruning_keeps_a_prefix_checkpoint_the_rest_verifies_from_and_checkpoints_still_count(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    t = trust(tmp_path, f"k1:{key()}")
    with time_machine.travel(utcnow(), tick=False) as clock:
        await append(engine, t, 3)
        assert (await verify(engine, t))["checked"] == 3  # an anchor checkpoint pins id 3, count 3
        clock.shift(dt.timedelta(days=10))
        await append(engine, t, 2)
        assert await prune(engine, t, 30) == 0  # nothing is 30 days old
        clock.shift(dt.timedelta(days=25))
        assert await prune(engine, t, 30) == 3
        assert await actions(engine) == [("thing.done", "success")] * 2 + [("audit.pruned", "success")]
        # Positions and counts go on from the pruned entries: the anchor's checkpoints still hold.
        assert await verify(engine, t) == {
            "ok": True,
            "checked": 6,
            "broken_at": None,
            "position": None,
            "reason": None,
        }
        cp = await checkpoint(engine, t)  # the periodic checkpoint counts the pruned entries too
        assert cp is not None and cp.count == 6
        clock.shift(dt.timedelta(days=40))
        await append(engine, t, 1)
        assert await prune(engine, t, 30) == 3  # a second checkpoint, chained to the first
        assert (await verify(engine, t))["checked"] == 8
        async with engine.connect() as conn:
            totals = (await conn.execute(text("SELECT pruned, total FROM audit_pruned ORDER BY id"))).all()
        assert [tuple(r) for r in totals] == [(3, 3), (3, 6)]


@pytest.mark.parametrize(
    ("tamper", "words"),
    [
        ("UPDATE audit_pruned SET pruned = pruned - 1, total = total - 1", "does not hold"),
        ("UPDATE audit_pruned SET through_hash = '" + "0" * 64 + "'", "does not hold"),
        ("DELETE FROM audit_pruned", "previous hash does not match"),
        ("DELETE FROM audit_log WHERE id = (SELECT MIN(id) FROM audit_log)", "previous hash does not match"),
    ],
)
async def test_a_tampered_pruning_checkpoint_or_a_deleted_remaining_entry_fails_verification(
    engine: AsyncEngine, tmp_path: Path, tamper: str, words: str
) -> None:
    t = trust(tmp_path, f"k1:{key()}")
    with time_machine.travel(utcnow(), tick=False) as clock:
        await append(engine, t, 2)
        clock.shift(dt.timedelta(days=200))
        await append(engine, t, 2)
        assert await prune(engine, t, 180) == 2
        assert (await verify(engine, t))["ok"] is True
    async with engine.begin() as conn:
        await conn.execute(text(tamper))
    broken = await verify(engine, t)
    assert broken["ok"] is False
    assert words in str(broken["reason"]), broken


async def test_a_broken_chain_is_not_pruned_and_the_refusal_is_logged(engine: AsyncEngine, tmp_path: Path) -> None:
    t = trust(tmp_path, f"k1:{key()}")
    with time_machine.travel(utcnow(), tick=False) as clock:
        await append(engine, t, 3)
        async with engine.begin() as conn:
            await conn.execute(text("UPDATE audit_log SET subject_id = 'x' WHERE id = 2"))
        clock.shift(dt.timedelta(days=200))
        assert await prune(engine, t, 180) == 0
    assert await actions(engine) == [("thing.done", "success")] * 3 + [("audit.pruned", "failure")]
    async with engine.connect() as conn:
        assert (await conn.execute(text("SELECT COUNT(*) FROM audit_pruned"))).scalar_one() == 0
