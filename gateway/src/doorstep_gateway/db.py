"""The gateway's database: the base of every table, their metadata, and the audit log.

Each sub-domain keeps its tables in its own ``models.py``; :mod:`doorstep_gateway.models`
imports them all, so that migrations and tests see every table on ``metadata``.
"""

from __future__ import annotations

from sqlmodel import SQLModel

from doorstep_shared.db import new_registry
from doorstep_shared.db.audit import AuditLog, audit_tables


class GatewayModel(SQLModel, registry=new_registry()):
    pass


metadata = GatewayModel.metadata

# The gateway's append-only audit log: logins (identity), client tokens and client changes (clients).
audit_log_table, audit_head_table, audit_pruned_table = audit_tables(metadata)
audit = AuditLog(audit_log_table, audit_head_table, audit_pruned_table)
