"""The database layer: engines and sessions for SQLite and PostgreSQL, column types, the
migrations runner, and the tables a service adds to its own MetaData for shared concerns.

- ``engine``: ``create_engine`` (SQLite: WAL, foreign keys, busy timeout; PostgreSQL: search
  path, pool), the write intent that decides how a transaction begins, ``ping``
- ``columns``: ``UTCDateTime``, ``JSONType``, ``BigIntId``, ``new_registry()`` (naming convention)
- ``session``: ``make_sessionmaker``, ``session_scope``, the request's ``DbSession``, and the
  ``ReadConnection`` the hottest reads use instead (no session)
- ``driver``: the hottest reads on PostgreSQL run on asyncpg itself (``hot_read``,
  ``DriverQuery``: a Core SELECT compiled once, no SQLAlchemy per execution or row;
  ``HotQuery``: the same read built for both paths, run on whichever connection it is given)
- ``migrations``: Alembic driven from code for one package (``upgrade``, ``head_revision``,
  ``run_env`` for its ``env.py``); which packages exist is ``doorstep_tools.migrate``'s business
- ``audit``: the append-only, hash-chained audit log (and its read routes)
- ``outbox``: the transactional outbox and its worker
- ``idempotency``: ``Idempotency-Key`` for unsafe requests (table + middleware)
- ``revision_gate``: when a per-process copy of slowly changing data re-reads its revision
"""

from .audit import AuditEntryRead, AuditEvent, AuditLog, VerifyResult, audit_router, audit_tables
from .columns import NAMING_CONVENTION, BigIntId, JSONType, ShortString, UTCDateTime, new_registry
from .driver import DriverConnection, DriverQuery, HotQuery, HotReader, among, hot_read
from .engine import create_engine, is_sqlite, mark_write_intent, ping, write_intent
from .idempotency import IdempotencyMiddleware, idempotency_table
from .outbox import OutboxMessage, OutboxWorker, backoff_delay, enqueue, make_outbox_table
from .session import (
    DbSession,
    ReadConnection,
    ReadRoutingSession,
    WritesOnRead,
    make_sessionmaker,
    read_only_engine,
    request_connection,
    request_session,
    session_scope,
    writes_on_read,
)

__all__ = [
    "NAMING_CONVENTION",
    "AuditEntryRead",
    "AuditEvent",
    "AuditLog",
    "BigIntId",
    "DbSession",
    "DriverConnection",
    "DriverQuery",
    "HotQuery",
    "HotReader",
    "IdempotencyMiddleware",
    "JSONType",
    "OutboxMessage",
    "OutboxWorker",
    "ReadConnection",
    "ReadRoutingSession",
    "ShortString",
    "UTCDateTime",
    "VerifyResult",
    "WritesOnRead",
    "among",
    "audit_router",
    "audit_tables",
    "backoff_delay",
    "create_engine",
    "enqueue",
    "hot_read",
    "idempotency_table",
    "is_sqlite",
    "make_outbox_table",
    "make_sessionmaker",
    "mark_write_intent",
    "new_registry",
    "ping",
    "read_only_engine",
    "request_connection",
    "request_session",
    "session_scope",
    "write_intent",
    "writes_on_read",
]
