"""An append-only, keyed hash chain each app keeps in its own database as its audit log.

Entries are written in the same transaction as the change they record. Each entry stores the
HMAC (under a key from configuration, ``key_id`` names it) of its own canonical content plus
the previous entry's MAC, so editing a row, or re-linking the chain after one, needs a key the
database does not hold. Signed checkpoints kept outside the database (:mod:`doorstep_shared.audit_anchor`)
pin the chain's length and head, so deleting the newest rows or emptying the table shows too:
:meth:`AuditLog.verify` reports the first bad position. No API updates or deletes entries.
Appends are serialised by a lock on the single ``audit_head`` row (SQLite serialises writers
anyway), which is what makes the chain linear under concurrency.

Entries written before the chain was keyed (``key_id`` NULL, plain SHA-256) still verify; the
first keyed entry pins them, and no unkeyed entry may follow a keyed one or a checkpoint.

Entries older than the app's retention are pruned (:meth:`AuditLog.prune`), and only as a prefix
of the chain: first a row in ``audit_pruned`` records the last pruned entry's id and MAC and how
many entries were pruned in all, MACed under the chain's key and chained to the previous such
row; ``verify`` starts from the newest one, so the rest of the chain still verifies and an
altered or deleted pruning row shows.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import AwareDatetime, BaseModel
from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    delete,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession as SAAsyncSession
from sqlmodel.ext.asyncio.session import AsyncSession

from ..audit_anchor import AUDIT_TRUST, AuditTrust, Checkpoint
from ..auth.permissions import Permission
from ..auth.security import authenticated_router, require
from ..auth.tokens import Principal
from ..clock import utcnow
from ..http.observability import request_id_var
from ..http.pagination import Page, cursor_int, encode_cursor, read_cursor
from ..http.problems import problems
from .columns import BigIntId, UTCDateTime
from .session import DbSession

GENESIS = "0" * 64

Session = AsyncSession | SAAsyncSession


def audit_tables(metadata: MetaData) -> tuple[Table, Table, Table]:
    """The audit log, its head row and its pruning checkpoints, in a service's own MetaData."""
    log = Table(
        "audit_log",
        metadata,
        Column("id", BigIntId, primary_key=True, autoincrement=True),
        Column("at", UTCDateTime(), nullable=False),
        Column("actor", String(64), nullable=False),
        Column("actor_kind", String(16), nullable=False),
        Column("action", String(64), nullable=False, index=True),
        Column("subject_type", String(64), nullable=False),
        Column("subject_id", String(128), nullable=False, index=True),
        Column("community", String(64), nullable=True, index=True),
        Column("outcome", String(16), nullable=False),
        Column("details", JSON(), nullable=False),
        Column("request_id", String(128), nullable=True),
        Column("prev_hash", String(64), nullable=False),
        Column("hash", String(64), nullable=False),
        Column("key_id", String(16), nullable=True),
    )
    head = Table(
        "audit_head",
        metadata,
        Column("id", Integer(), primary_key=True, autoincrement=False),
        Column("last_id", BigInteger(), nullable=False),
        Column("last_hash", String(64), nullable=False),
        Column("updated_at", DateTime(timezone=True), nullable=True),
    )
    pruned = Table(
        "audit_pruned",
        metadata,
        Column("id", BigIntId, primary_key=True, autoincrement=True),
        Column("at", UTCDateTime(), nullable=False),
        Column("before", UTCDateTime(), nullable=False),
        Column("through_id", BigInteger(), nullable=False),
        Column("through_hash", String(64), nullable=False),
        Column("pruned", BigInteger(), nullable=False),
        Column("total", BigInteger(), nullable=False),
        Column("prev_sig", String(64), nullable=False),
        Column("key_id", String(16), nullable=False),
        Column("sig", String(64), nullable=False),
    )
    return log, head, pruned


@dataclass
class AuditEvent:
    actor: str
    actor_kind: str
    action: str
    subject_type: str
    subject_id: str
    community: str | None = None
    outcome: str = "success"
    details: dict[str, Any] = field(default_factory=dict)


def trust_of(session: Session) -> AuditTrust:
    """The app's audit keys and anchor, which its sessionmaker puts on every session."""
    trust = session.info.get(AUDIT_TRUST)
    if not isinstance(trust, AuditTrust):
        raise RuntimeError("this session carries no audit keys: make it with make_sessionmaker(engine, audit=...)")
    return trust


def _canonical(entry: dict[str, Any]) -> bytes:
    at = entry["at"]
    if isinstance(at, dt.datetime):
        at = at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    body = {
        k: entry[k]
        for k in (
            "actor",
            "actor_kind",
            "action",
            "subject_type",
            "subject_id",
            "community",
            "outcome",
            "details",
            "request_id",
            "prev_hash",
        )
    }
    body["at"] = at
    if entry.get("key_id"):
        body["key_id"] = entry["key_id"]
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str).encode()


def entry_hash(entry: dict[str, Any], trust: AuditTrust | None = None) -> str:
    """The entry's MAC under its ``key_id``; the plain SHA-256 of an entry from before keys."""
    kid = entry.get("key_id")
    if not kid:
        return hashlib.sha256(_canonical(entry)).hexdigest()
    if trust is None or not trust.keys.knows(kid):
        raise KeyError(kid)
    return trust.keys.mac(kid, "entry", _canonical(entry))


def _instant(value: Any) -> str:
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return str(value)


def pruning_sig(row: dict[str, Any], trust: AuditTrust) -> str:
    """The MAC of a pruning checkpoint under its ``key_id`` (``KeyError`` for an unknown key)."""
    kid = row["key_id"]
    if not trust.keys.knows(kid):
        raise KeyError(kid)
    body = {k: row[k] for k in ("through_id", "through_hash", "pruned", "total", "prev_sig", "key_id")}
    body |= {"at": _instant(row["at"]), "before": _instant(row["before"])}
    return trust.keys.mac(kid, "pruned", json.dumps(body, sort_keys=True, separators=(",", ":")).encode())


@dataclass(frozen=True)
class PrunedPrefix:
    """Where the chain starts after pruning: ``total`` entries gone, the last ``through_id``
    with MAC ``through_hash``; ``sig`` is the newest pruning checkpoint's (GENESIS: none)."""

    total: int = 0
    through_id: int = 0
    through_hash: str = GENESIS
    sig: str = GENESIS
    problem: str | None = None


class AuditLog:
    def __init__(self, log: Table, head: Table, pruned: Table) -> None:
        self.log = log
        self.head = head
        self.pruned = pruned

    async def append(self, session: Session, event: AuditEvent) -> int:
        """Append one entry in the caller's transaction; returns its id."""
        trust = trust_of(session)
        head = (await session.execute(select(self.head).where(self.head.c.id == 1).with_for_update())).first()
        if head is None:
            await session.execute(insert(self.head).values(id=1, last_id=0, last_hash=GENESIS, updated_at=utcnow()))
            prev_hash = GENESIS
        else:
            prev_hash = head.last_hash
        entry = {
            "at": utcnow(),
            "actor": event.actor,
            "actor_kind": event.actor_kind,
            "action": event.action,
            "subject_type": event.subject_type,
            "subject_id": str(event.subject_id),
            "community": event.community,
            "outcome": event.outcome,
            "details": event.details,
            "request_id": request_id_var.get(),
            "prev_hash": prev_hash,
            "key_id": trust.keys.active_kid,
        }
        entry["hash"] = entry_hash(entry, trust)
        result = await session.execute(insert(self.log).values(**entry).returning(self.log.c.id))
        new_id = int(result.scalar_one())
        await session.execute(
            update(self.head)
            .where(self.head.c.id == 1)
            .values(last_id=new_id, last_hash=entry["hash"], updated_at=utcnow())
        )
        return new_id

    async def record(
        self,
        session: Session,
        principal: Principal | None,
        action: str,
        subject_type: str,
        subject_id: str,
        *,
        community: str | None = None,
        outcome: str = "success",
        **details: Any,
    ) -> int:
        return await self.append(
            session,
            AuditEvent(
                actor=principal.subject if principal else "anonymous",
                actor_kind=principal.kind if principal else "anonymous",
                action=action,
                subject_type=subject_type,
                subject_id=subject_id,
                community=community,
                outcome=outcome,
                details=details,
            ),
        )

    async def query(
        self,
        session: Session,
        *,
        actor: str | None = None,
        action: str | None = None,
        subject_type: str | None = None,
        subject_id: str | None = None,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
        communities: frozenset[str] | None = None,
        after_id: int | None = None,
        limit: int = 50,
    ) -> Sequence[Any]:
        c = self.log.c
        stmt = select(self.log).order_by(c.id.desc()).limit(limit)
        if actor:
            stmt = stmt.where(c.actor == actor)
        if action:
            stmt = stmt.where(c.action == action)
        if subject_type:
            stmt = stmt.where(c.subject_type == subject_type)
        if subject_id:
            stmt = stmt.where(c.subject_id == subject_id)
        if since:
            stmt = stmt.where(c.at >= since)
        if until:
            stmt = stmt.where(c.at < until)
        if communities is not None:
            stmt = stmt.where(c.community.in_(communities))
        if after_id is not None:
            stmt = stmt.where(c.id < after_id)
        return (await session.execute(stmt)).all()

    async def verify(self, session: Session, batch: int = 5000, *, anchor: bool = True) -> VerifyResult:
        """Walk the chain in id order (streaming in batches) against the anchor's checkpoints;
        report the first bad position. A sound chain is then checkpointed (``anchor``)."""
        trust = trust_of(session)
        checkpoints, forged = trust.checkpoints()
        if forged:
            return VerifyResult.broken(0, None, 1, f"{forged} checkpoint(s) in the anchor carry no valid signature")
        start = await self.pruned_prefix(session)
        if start.problem is not None:
            return VerifyResult.broken(start.total, None, start.total + 1, start.problem)
        pinned: dict[int, list[Checkpoint]] = {}
        for cp in checkpoints:
            if cp.last_id > start.through_id:
                pinned.setdefault(cp.last_id, []).append(cp)
            elif cp.last_id == start.through_id and (cp.count != start.total or cp.head != start.through_hash):
                reason = f"the pruning checkpoint differs from the checkpoint of {cp.at}"
                return VerifyResult.broken(start.total, None, start.total + 1, reason)
        # Entries are MACed since the first checkpoint at the latest (it is written at start-up):
        # an unkeyed entry after it was re-hashed by someone without the key.
        keyed_after = min((cp.last_id for cp in checkpoints), default=None)
        matched: set[int] = set()
        keyed_seen = False
        prev, checked, last_id = start.through_hash, start.total, start.through_id
        while True:
            rows = (
                await session.execute(
                    select(self.log).where(self.log.c.id > last_id).order_by(self.log.c.id).limit(batch)
                )
            ).all()
            if not rows:
                break
            for row in rows:
                entry = row._asdict()
                problem = self._entry_problem(entry, prev, trust, keyed_seen, keyed_after)
                if problem is None:
                    for cp in pinned.get(entry["id"], ()):
                        if cp.count != checked + 1 or not hmac.compare_digest(cp.head, entry["hash"]):
                            problem = f"the chain was rewritten: it differs from the checkpoint of {cp.at}"
                            break
                if problem is not None:
                    return VerifyResult.broken(checked, entry["id"], checked + 1, problem)
                matched.add(entry["id"])
                keyed_seen = keyed_seen or bool(entry["key_id"])
                prev = entry["hash"]
                checked += 1
                last_id = entry["id"]
        missing = sorted(
            (cp for cp in checkpoints if cp.count and cp.last_id > start.through_id and cp.last_id not in matched),
            key=lambda c: c.count,
        )
        if missing:
            cp = missing[-1]
            if checked == start.total:
                reason = f"the log was emptied: the checkpoint of {cp.at} vouches for {cp.count} entries"
            else:
                reason = (
                    f"the newest entries were removed: the checkpoint of {cp.at} vouches for {cp.count} entries "
                    f"up to id {cp.last_id}, the log holds {checked} up to id {last_id}"
                )
            return VerifyResult.broken(checked, None, min(checked + 1, missing[0].count), reason)
        head = (await session.execute(select(self.head).where(self.head.c.id == 1))).first()
        if head is not None and (head.last_id != last_id or head.last_hash != prev):
            return VerifyResult.broken(checked, None, checked + 1, "the newest entries were removed")
        if anchor and not any(cp.count == checked and cp.head == prev for cp in checkpoints[-1:]):
            trust.write(trust.sign(checked, last_id, prev))
        return VerifyResult(ok=True, checked=checked, broken_at=None, position=None, reason=None)

    @staticmethod
    def _entry_problem(
        entry: dict[str, Any], prev: str, trust: AuditTrust, keyed_seen: bool, keyed_after: int | None
    ) -> str | None:
        if entry["prev_hash"] != prev:
            return "previous hash does not match (an entry was removed or reordered)"
        kid = entry["key_id"]
        if kid and not trust.keys.knows(kid):
            return f"entry is MACed under an unknown key id {kid!r}"
        if not kid and (keyed_seen or (keyed_after is not None and entry["id"] > keyed_after)):
            return "an unkeyed entry where only keyed ones may be (the chain was re-hashed without the key)"
        if not hmac.compare_digest(entry_hash(entry, trust), entry["hash"]):
            return "entry content does not match its hash (it was edited)"
        return None

    async def checkpoint(self, session: Session) -> Checkpoint | None:
        """Write the chain's committed state (count, newest id, head) to the anchor, unless the
        last checkpoint this process wrote says the same. Runs now and then and at start-up."""
        trust = trust_of(session)
        counted = select(func.count()).select_from(self.log).where(self.log.c.id <= self.head.c.last_id)
        pruned = select(self.pruned.c.total).order_by(self.pruned.c.id.desc()).limit(1)
        row = (
            await session.execute(
                select(
                    self.head.c.last_id,
                    self.head.c.last_hash,
                    counted.scalar_subquery(),
                    pruned.scalar_subquery(),
                ).where(self.head.c.id == 1)
            )
        ).first()
        state = (0, 0, GENESIS) if row is None else (int(row[2]) + int(row[3] or 0), int(row[0]), str(row[1]))
        if trust.last_state == state:
            return None
        cp = trust.sign(*state)
        trust.write(cp)
        trust.last_state = state
        return cp

    async def pruned_prefix(self, session: Session) -> PrunedPrefix:
        """The newest pruning checkpoint, after checking every one: its MAC, its link to the one
        before, and that each prunes past the last (``problem`` names the first that fails)."""
        trust = trust_of(session)
        start = PrunedPrefix()
        for row in (await session.execute(select(self.pruned).order_by(self.pruned.c.id))).all():
            cp = row._asdict()
            try:
                sound = hmac.compare_digest(pruning_sig(cp, trust), cp["sig"])
            except KeyError:
                sound = False
            if (
                not sound
                or cp["prev_sig"] != start.sig
                or cp["through_id"] <= start.through_id
                or cp["total"] != start.total + cp["pruned"]
            ):
                problem = f"the checkpoint of the entries pruned on {_instant(cp['at'])} does not hold (it was altered)"
                return PrunedPrefix(start.total, start.through_id, start.through_hash, start.sig, problem)
            start = PrunedPrefix(cp["total"], cp["through_id"], cp["through_hash"], cp["sig"])
        return start

    async def prune(self, session: Session, before: dt.datetime) -> int:
        """Delete the chain's oldest entries, those written before ``before`` (a prefix: pruning
        stops at the first newer entry), in the caller's transaction; returns how many.

        The chain is verified first (pruning never launders a broken prefix: a broken chain
        prunes nothing and says so in the log); then a pruning checkpoint is recorded, the
        entries deleted, and the pruning itself appended as ``audit.pruned``."""
        trust = trust_of(session)
        c = self.log.c
        await session.execute(select(self.head.c.id).where(self.head.c.id == 1).with_for_update())
        first_kept = select(func.min(c.id)).where(c.at >= before).scalar_subquery()
        last = (
            await session.execute(
                select(c.id, c.hash).where(c.id < func.coalesce(first_kept, c.id + 1)).order_by(c.id.desc()).limit(1)
            )
        ).first()
        if last is None:
            return 0

        def pruning(outcome: str, **details: Any) -> AuditEvent:
            return AuditEvent("system", "system", "audit.pruned", "audit_log", str(last.id), None, outcome, details)

        checked = await self.verify(session, anchor=False)
        if not checked.ok:
            await self.append(session, pruning("failure", reason="chain_broken", position=checked.position))
            return 0
        start = await self.pruned_prefix(session)
        count = int(
            (await session.execute(select(func.count()).select_from(self.log).where(c.id <= last.id))).scalar_one()
        )
        cp: dict[str, Any] = {
            "at": utcnow(),
            "before": before,
            "through_id": int(last.id),
            "through_hash": last.hash,
            "pruned": count,
            "total": start.total + count,
            "prev_sig": start.sig,
            "key_id": trust.keys.active_kid,
        }
        cp["sig"] = pruning_sig(cp, trust)
        await session.execute(insert(self.pruned).values(**cp))
        await session.execute(delete(self.log).where(c.id <= last.id))
        details = {"pruned": count, "through_id": int(last.id), "before": _instant(before), "total": cp["total"]}
        await self.append(session, pruning("success", **details))
        return count

    async def prune_expired(self, session: Session, retention_days: int) -> int:
        """Prune the entries older than ``retention_days`` (0: keep every entry)."""
        if retention_days <= 0:
            return 0
        return await self.prune(session, utcnow() - dt.timedelta(days=retention_days))


class VerifyResult(BaseModel):
    """``position``: 1-based place in the chain of the first bad or missing entry;
    ``broken_at``: that entry's id when it is still there."""

    ok: bool
    checked: int
    broken_at: int | None
    position: int | None
    reason: str | None

    @classmethod
    def broken(cls, checked: int, broken_at: int | None, position: int, reason: str) -> VerifyResult:
        return cls(ok=False, checked=checked, broken_at=broken_at, position=position, reason=reason)


class AuditEntryRead(BaseModel):
    id: int
    at: dt.datetime
    actor: str
    actor_kind: str
    action: str
    subject_type: str
    subject_id: str
    community: str | None
    outcome: str
    details: dict[str, Any]
    request_id: str | None
    hash: str


def audit_router(
    prefix: str,
    audit: AuditLog,
    *,
    tag: str = "audit",
    auditor: Callable[..., Awaitable[Principal]] | None = None,
) -> APIRouter:
    """``GET {prefix}`` (query) and ``GET {prefix}/verify`` (check the chain), for auditors.
    ``auditor``: the dependency that admits them (default ``require(audit:read)``); an app that
    keeps the directory itself passes one that resolves a county role against it as stored now."""
    reader = Depends(auditor) if auditor is not None else Depends(require(Permission.AUDIT_READ))
    router = authenticated_router(prefix=prefix, tags=[tag])

    responses = problems(described={401: "Not signed in", 403: "Missing audit:read", 422: "Invalid query"})

    @router.get(
        "", response_model=Page[AuditEntryRead], summary="Query the audit log (newest first)", responses=responses
    )
    async def list_audit(
        session: DbSession,
        principal: Principal = reader,
        actor: Annotated[str | None, Query(max_length=64)] = None,
        action: Annotated[str | None, Query(max_length=64)] = None,
        subject_type: Annotated[str | None, Query(max_length=64)] = None,
        subject_id: Annotated[str | None, Query(max_length=128)] = None,
        since: AwareDatetime | None = None,
        until: AwareDatetime | None = None,
        cursor: Annotated[str | None, Query(max_length=128)] = None,
        limit: Annotated[int, Query(ge=1, le=200)] = 50,
    ) -> Page[AuditEntryRead]:
        decoded = read_cursor(cursor, cursor_int)
        rows = await audit.query(
            session,
            actor=actor,
            action=action,
            subject_type=subject_type,
            subject_id=subject_id,
            since=since,
            until=until,
            communities=principal.visible_communities,
            after_id=decoded[0] if decoded else None,
            limit=limit + 1,
        )
        items = [AuditEntryRead.model_validate(r._asdict()) for r in rows[:limit]]
        next_cursor = encode_cursor([items[-1].id]) if len(rows) > limit else None
        return Page[AuditEntryRead](items=items, next_cursor=next_cursor)

    @router.get(
        "/verify",
        response_model=VerifyResult,
        summary="Check the audit log's keyed chain against its checkpoints",
        responses=responses,
    )
    async def verify_audit(session: DbSession, _: Principal = reader) -> VerifyResult:
        return await audit.verify(session)

    return router
