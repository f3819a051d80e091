"""The catalog's append-only, hash-chained audit log of admin edits (who, what, which code,
version, field names): its tables, and ``record``, which the items and tips services call in
the transaction of the edit."""

from __future__ import annotations

from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from doorstep_shared.auth.tokens import Principal
from doorstep_shared.db.audit import AuditLog, audit_tables

from .db import metadata

audit_log_table, audit_head_table, audit_pruned_table = audit_tables(metadata)
audit_log = AuditLog(audit_log_table, audit_head_table, audit_pruned_table)


async def record(
    session: AsyncSession,
    principal: Principal,
    action: str,
    subject_type: str,
    subject_id: str,
    *,
    community: str | None = None,
    **details: Any,
) -> None:
    """Append an entry in the caller's transaction (so the entry exists exactly when the edit
    does). ``details`` hold codes, versions and field names only: never free text (reasons, tip
    bodies) nor personal data."""
    await audit_log.record(session, principal, action, subject_type, subject_id, community=community, **details)
