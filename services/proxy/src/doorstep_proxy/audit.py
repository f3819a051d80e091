"""The proxy's append-only, hash-chained audit log (reveals, imports, removals, erasures) in its
MetaData, and its routes (query, verify the chain). ``reveal_audit`` (the ledger's) stays the
reveal trail; this log chains every entry to the one before it."""

from __future__ import annotations

from doorstep_shared.db.audit import AuditLog, audit_router, audit_tables

from .db import metadata

audit_log_table, audit_head_table, audit_pruned_table = audit_tables(metadata)
audit_log = AuditLog(audit_log_table, audit_head_table, audit_pruned_table)

router = audit_router("/api/v1/proxy/audit", audit_log, tag="audit-log")
