"""Moved to doorstep_shared.db.outbox; removed once every package imports the new path."""

from doorstep_shared.db.outbox import (
    Handler,
    OutboxMessage,
    OutboxWorker,
    backoff_delay,
    enqueue,
    make_outbox_table,
)

__all__ = [
    "Handler",
    "OutboxMessage",
    "OutboxWorker",
    "backoff_delay",
    "enqueue",
    "make_outbox_table",
]
