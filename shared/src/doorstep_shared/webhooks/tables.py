"""The webhook tables, defined in a service's own MetaData (so its migrations create them)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Boolean, Column, ForeignKey, Index, Integer, MetaData, String, Table, UniqueConstraint

from ..db.columns import BigIntId, JSONType, UTCDateTime
from ..db.outbox import make_outbox_table


class DeliveryStatus:
    PENDING = "pending"  # queued, not tried yet (or queued again by a redelivery)
    RETRYING = "retrying"  # failed at least once, another attempt is scheduled
    DELIVERED = "delivered"  # the receiver answered 2xx
    DEAD = "dead"  # gave up: retry window or attempt limit exhausted
    CANCELLED = "cancelled"  # the subscription was deactivated before it went out

    ALL = (PENDING, RETRYING, DELIVERED, DEAD, CANCELLED)


@dataclass(frozen=True)
class WebhookTables:
    subscriptions: Table
    deliveries: Table
    outbox: Table


def make_webhook_tables(metadata: MetaData) -> WebhookTables:
    """The webhook tables, defined in the caller's MetaData (so its migrations create them)."""
    subscriptions = Table(
        "webhook_subscription",
        metadata,
        Column("id", BigIntId, primary_key=True, autoincrement=True),
        Column("owner", String(200), nullable=False, index=True),  # the client id
        Column("url", String(2000), nullable=False),
        Column("description", String(200), nullable=True),
        Column("event_types", JSONType, nullable=False),
        Column("communities", JSONType, nullable=True),  # null: every community
        Column("active", Boolean, nullable=False, default=True),
        Column("secret_cipher", String(500), nullable=False),
        Column("previous_secret_cipher", String(500), nullable=True),
        Column("previous_secret_expires_at", UTCDateTime(), nullable=True),
        Column("secret_rotated_at", UTCDateTime(), nullable=True),
        Column("created_at", UTCDateTime(), nullable=False),
        Column("updated_at", UTCDateTime(), nullable=False),
        Column("deactivated_at", UTCDateTime(), nullable=True),
        Column("version", Integer, nullable=False, default=1),
    )
    deliveries = Table(
        "webhook_delivery",
        metadata,
        Column("id", BigIntId, primary_key=True, autoincrement=True),
        Column("event_id", String(64), nullable=False),
        Column("event_type", String(100), nullable=False),
        Column(
            "subscription_id",
            BigIntId,
            ForeignKey("webhook_subscription.id", ondelete="CASCADE"),
            nullable=False,
        ),
        Column("resource", String(200), nullable=False),
        Column("community", String(64), nullable=True),
        Column("payload", JSONType, nullable=False),  # the exact envelope (kept for redelivery)
        Column("status", String(20), nullable=False),
        Column("attempts", Integer, nullable=False, default=0),
        Column("response_code", Integer, nullable=True),
        Column("latency_ms", Integer, nullable=True),
        Column("last_error", String(500), nullable=True),
        Column("next_attempt_at", UTCDateTime(), nullable=True),
        Column("last_attempt_at", UTCDateTime(), nullable=True),
        Column("delivered_at", UTCDateTime(), nullable=True),
        Column("created_at", UTCDateTime(), nullable=False),
        UniqueConstraint("event_id", "subscription_id"),
        Index("ix_webhook_delivery_subscription", "subscription_id", "id"),
    )
    return WebhookTables(subscriptions, deliveries, make_outbox_table(metadata, "webhook_outbox"))
