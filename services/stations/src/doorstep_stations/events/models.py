"""Webhook tables: subscriptions, their delivery log and their own outbox (doorstep_shared.webhooks)."""

from __future__ import annotations

from doorstep_shared.webhooks import Webhooks

from ..db import metadata
from .schemas import EVENT_TYPES

hooks = Webhooks(metadata, service="stations", events=EVENT_TYPES)
