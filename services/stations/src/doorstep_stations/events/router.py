"""Webhook routes (doorstep_shared.webhooks): subscriptions, secret rotation, the delivery log
and redelivery, for the events of ``schemas.EVENT_TYPES``."""

from __future__ import annotations

from doorstep_shared.webhooks import webhooks_router

from ..deps import get_pii, get_webhook_config, now
from .models import hooks

router = webhooks_router(
    "/api/v1/stations/webhooks",
    hooks=hooks,
    get_box=get_pii,
    get_config=get_webhook_config,
    get_now=now,
)
