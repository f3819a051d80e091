"""The webhook routes over the proxy's store (``doorstep_shared.webhooks``): event types,
subscriptions, secret rotation, the delivery log and redelivery."""

from __future__ import annotations

from doorstep_shared.webhooks import webhooks_router

from ..deps import get_cipher, get_webhook_config
from .webhooks import hooks

PREFIX = "/api/v1/proxy/webhooks"

router = webhooks_router(PREFIX, hooks=hooks, get_box=get_cipher, get_config=get_webhook_config)
