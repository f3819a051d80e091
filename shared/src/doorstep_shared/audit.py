"""Moved to doorstep_shared.db.audit; removed once every package imports the new path."""

from doorstep_shared.db.audit import (
    GENESIS,
    AuditEntryRead,
    AuditEvent,
    AuditLog,
    Auditor,
    Session,
    VerifyResult,
    audit_router,
    audit_tables,
    entry_hash,
)

__all__ = [
    "GENESIS",
    "AuditEntryRead",
    "AuditEvent",
    "AuditLog",
    "Auditor",
    "Session",
    "VerifyResult",
    "audit_router",
    "audit_tables",
    "entry_hash",
]
