"""Signed exports of the gateway's audit log, and login histories read from it.

An export is JSON Lines: one audit entry per line (oldest first, as stored: its chain fields
included, so the archive can be re-verified against the chain), then one last line
``{"signature": "<JWS>"}``. The JWS (RS256, the gateway's token-signing key, ``kid`` in its
header, public key in ``/.well-known/jwks.json``) signs the SHA-256 of every byte before that
line, with the count, id range, window and who exported it. README "Audit export" shows how to
check one.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import AsyncIterator, Sequence
from typing import Any

import jwt
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from doorstep_shared.auth.tokens import ALGORITHM, Principal, TokenSigner
from doorstep_shared.clock import utcnow

from ..db import audit, audit_log_table

EXPORT_TYPE = "doorstep-audit-export+jwt"
BATCH = 1000
FIELDS = (
    "id",
    "at",
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
    "hash",
    "key_id",
)


def _line(row: Any) -> bytes:
    entry = {k: getattr(row, k) for k in FIELDS}
    entry["at"] = entry["at"].astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
    return (json.dumps(entry, ensure_ascii=False, sort_keys=True, separators=(",", ":")) + "\n").encode()


async def record_export(
    session: AsyncSession, principal: Principal, since: dt.datetime | None, until: dt.datetime | None
) -> None:
    await audit.record(
        session,
        principal,
        "audit.exported",
        "audit_log",
        "gateway",
        since=since.isoformat() if since else None,
        until=until.isoformat() if until else None,
    )


async def export_lines(
    sessionmaker: async_sessionmaker[Any],
    signer: TokenSigner,
    principal: Principal,
    since: dt.datetime | None,
    until: dt.datetime | None,
) -> AsyncIterator[bytes]:
    """The entries in the window, streamed in id order in batches, then the signature line."""
    digest = hashlib.sha256()
    count, first_id, last_id = 0, None, 0
    log = audit_log_table.c
    async with sessionmaker() as session:
        while True:
            stmt = select(audit_log_table).where(log.id > last_id).order_by(log.id).limit(BATCH)
            if since is not None:
                stmt = stmt.where(log.at >= since)
            if until is not None:
                stmt = stmt.where(log.at < until)
            rows = (await session.execute(stmt)).all()
            if not rows:
                break
            chunk = b"".join(_line(row) for row in rows)
            digest.update(chunk)
            count += len(rows)
            first_id = first_id if first_id is not None else rows[0].id
            last_id = rows[-1].id
            yield chunk
    claims = {
        "iss": signer.issuer,
        "typ": "audit-export",
        "app": "gateway",
        "exported_at": int(utcnow().timestamp()),
        "exported_by": principal.subject,
        "since": since.isoformat() if since else None,
        "until": until.isoformat() if until else None,
        "entries": count,
        "first_id": first_id,
        "last_id": last_id or None,
        "sha256": digest.hexdigest(),
    }
    signature = jwt.encode(
        claims, signer.active.private_key, algorithm=ALGORITHM, headers={"kid": signer.active.kid, "typ": EXPORT_TYPE}
    )
    yield (json.dumps({"signature": signature}) + "\n").encode()


async def logins(session: AsyncSession, username: str, *, after_id: int | None, limit: int) -> Sequence[Any]:
    """Sign-in attempts naming ``username`` (successes and refusals), newest first."""
    return await audit.query(session, action="login", subject_id=username, after_id=after_id, limit=limit)
