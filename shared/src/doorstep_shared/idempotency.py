"""Moved to doorstep_shared.db.idempotency; removed once every package imports the new path."""

from doorstep_shared.db.idempotency import (
    DONE,
    HEADER,
    REPLAYED,
    RUNNING,
    IdempotencyMiddleware,
    fingerprint,
    idempotency_table,
    purge_expired,
    valid_key,
)

__all__ = [
    "DONE",
    "HEADER",
    "REPLAYED",
    "RUNNING",
    "IdempotencyMiddleware",
    "fingerprint",
    "idempotency_table",
    "purge_expired",
    "valid_key",
]
