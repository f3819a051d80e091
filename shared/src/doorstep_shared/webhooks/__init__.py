"""Signed webhooks for any service: subscriptions, same-transaction fan-out, a dispatcher, routes.

A service keeps one :class:`Webhooks` object, built on its MetaData (so its migrations create
the three tables: ``webhook_subscription``, ``webhook_delivery`` and ``webhook_outbox``)::

    hooks = Webhooks(metadata, service="stations", events=[EventType("ticket.ready", ...)])

* ``await hooks.publish(session, "ticket.ready", f"ticket:{id}", community, payload)`` in the
  transaction of the change queues the event for every matching subscription (``publisher``).
* A :class:`WebhookDispatcher` delivers them, signed per Standard Webhooks, retried with
  back-off for a day, then dead-lettered (``dispatcher``, ``signing``).
* :func:`webhooks_router` gives clients the routes to manage their subscriptions (``router``).
* Receiver URLs are checked for safety at subscription time and before every send (``urls``).
* ``WebhookSettings`` is the settings mixin of a publishing service; ``webhook_config()``
  builds the :class:`WebhookConfig` the dispatcher and routes take (``settings``).

Modules: ``tables`` (the three tables), ``store`` (every query over them), ``publisher``,
``dispatcher``, ``signing``, ``urls``, ``settings``, ``schemas``, ``router``.
"""

from .dispatcher import USER_AGENT, WebhookDispatcher
from .publisher import PING, EventType, Webhooks, new_event_id
from .router import webhooks_router
from .schemas import (
    WebhookDeliveryRead,
    WebhookEventTypeRead,
    WebhookSecretRotate,
    WebhookSubscriptionCreate,
    WebhookSubscriptionCreated,
    WebhookSubscriptionRead,
)
from .settings import WebhookConfig, WebhookSettings
from .signing import SECRET_CONTEXT, SecretBox, encode_body, new_secret, sign_headers
from .store import WebhookStore
from .tables import DeliveryStatus, WebhookTables, make_webhook_tables
from .urls import Resolver, UnsafeUrl, address_is_public, check_url, resolve_host

__all__ = [
    "PING",
    "SECRET_CONTEXT",
    "USER_AGENT",
    "DeliveryStatus",
    "EventType",
    "Resolver",
    "SecretBox",
    "UnsafeUrl",
    "WebhookConfig",
    "WebhookDeliveryRead",
    "WebhookDispatcher",
    "WebhookEventTypeRead",
    "WebhookSecretRotate",
    "WebhookSettings",
    "WebhookStore",
    "WebhookSubscriptionCreate",
    "WebhookSubscriptionCreated",
    "WebhookSubscriptionRead",
    "WebhookTables",
    "Webhooks",
    "address_is_public",
    "check_url",
    "encode_body",
    "make_webhook_tables",
    "new_event_id",
    "new_secret",
    "resolve_host",
    "sign_headers",
    "webhooks_router",
]
