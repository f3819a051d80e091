"""An append-only, hash-chained audit log each app keeps in its own database.

Entries are written in the same transaction as the change they record. Each entry stores the
SHA-256 of its own canonical content plus the previous entry's hash, so editing or deleting a
row directly in the database breaks the chain, and :func:`verify` finds where. No API updates
or deletes entries. Appends are serialised by a lock on the single ``audit_head`` row (SQLite
serialises writers anyway), which is what makes the chain linear under concurrency.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import AwareDatetime, BaseModel
from sqlalchemy import JSON, BigInteger, Column, DateTime, Integer, MetaData, String, Table, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession as SAAsyncSession
from sqlmodel.ext.asyncio.session import AsyncSession

from ..auth.permissions import Permission
from ..auth.security import current_principal, require
from ..auth.tokens import Principal
from ..clock import utcnow
from ..http.observability import request_id_var
from ..http.pagination import Page, cursor_int, encode_cursor, read_cursor
from .columns import BigIntId, UTCDateTime
from .session import DbSession

GENESIS = "0" * 64

Session = AsyncSession | SAAsyncSession


def audit_tables(metadata: MetaData) -> tuple[Table, Table]:
    """The audit log and its head row, in a service's own MetaData."""
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
    )
    head = Table(
        "audit_head",
        metadata,
        Column("id", Integer(), primary_key=True, autoincrement=False),
        Column("last_id", BigInteger(), nullable=False),
        Column("last_hash", String(64), nullable=False),
        Column("updated_at", DateTime(timezone=True), nullable=True),
    )
    return log, head


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
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str).encode()


def entry_hash(entry: dict[str, Any]) -> str:
    return hashlib.sha256(_canonical(entry)).hexdigest()


class AuditLog:
    def __init__(self, log: Table, head: Table) -> None:
        self.log = log
        self.head = head

    async def append(self, session: Session, event: AuditEvent) -> int:
        """Append one entry in the caller's transaction; returns its id."""
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
        }
        entry["hash"] = entry_hash(entry)
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

    async def verify(self, session: Session, batch: int = 5000) -> VerifyResult:
        """Walk the chain in id order, streaming in batches; report the first broken entry."""
        prev = GENESIS
        checked = 0
        last_id = 0
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
                if entry["prev_hash"] != prev:
                    return VerifyResult(
                        ok=False,
                        checked=checked,
                        broken_at=entry["id"],
                        reason="previous hash does not match (an entry was removed or reordered)",
                    )
                if entry_hash(entry) != entry["hash"]:
                    return VerifyResult(
                        ok=False,
                        checked=checked,
                        broken_at=entry["id"],
                        reason="entry content does not match its hash (it was edited)",
                    )
                prev = entry["hash"]
                checked += 1
                last_id = entry["id"]
        head = (await session.execute(select(self.head).where(self.head.c.id == 1))).first()
        if head is not None and (head.last_id != last_id or head.last_hash != prev):
            return VerifyResult(
                ok=False, checked=checked, broken_at=last_id or None, reason="the newest entries were removed"
            )
        return VerifyResult(ok=True, checked=checked, broken_at=None, reason=None)


class VerifyResult(BaseModel):
    ok: bool
    checked: int
    broken_at: int | None
    reason: str | None


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


Auditor = Annotated[Principal, Depends(require(Permission.AUDIT_READ))]


def audit_router(prefix: str, audit: AuditLog, *, tag: str = "audit") -> APIRouter:
    """``GET {prefix}`` (query) and ``GET {prefix}/verify`` (check the chain), for auditors."""
    router = APIRouter(prefix=prefix, tags=[tag], dependencies=[Depends(current_principal)])

    problems: dict[int | str, dict[str, Any]] = {
        code: {"description": text, "content": {"application/problem+json": {}}}
        for code, text in ((401, "Not signed in"), (403, "Missing audit:read"), (422, "Invalid query"))
    }

    @router.get(
        "", response_model=Page[AuditEntryRead], summary="Query the audit log (newest first)", responses=problems
    )
    async def list_audit(
        session: DbSession,
        principal: Auditor,
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

    @router.get("/verify", response_model=VerifyResult, summary="Check the audit log's hash chain", responses=problems)
    async def verify_audit(session: DbSession, _: Auditor) -> VerifyResult:
        return await audit.verify(session)

    return router
