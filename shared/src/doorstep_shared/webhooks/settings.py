"""Webhook knobs: the dispatcher's ``WebhookConfig`` and the settings mixin that builds it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from pydantic import Field

from ..config import ServiceSettings
from .urls import Resolver


@dataclass(frozen=True)
class WebhookConfig:
    """Per-service knobs; each service builds one from its settings."""

    allow_private: bool = False  # development/test: loopback receivers are fine
    require_https: bool = True  # production
    timeout: float = 5.0  # hard deadline of one POST (DNS + connect + send + headers)
    concurrency: int = 16  # POSTs in flight per dispatcher process
    per_subscription_concurrency: int = 4  # so one slow receiver cannot take every slot
    retry_window: dt.timedelta = dt.timedelta(days=1)
    base_delay: float = 10.0  # first retry after 5-10 s, then doubling …
    max_delay: float = 3 * 3600.0  # … up to 1.5-3 h between attempts
    max_attempts: int = 100  # a backstop; the retry window normally ends retries first
    batch_size: int = 50
    poll_interval: float = 2.0
    max_subscriptions_per_owner: int = 20
    resolver: Resolver | None = None  # tests inject one; default: the system resolver


class WebhookSettings(ServiceSettings):
    """The webhook settings of a service that publishes events (a mixin:
    ``class StationsSettings(PiiSettings, WebhookSettings)``); ``webhook_config()`` is what the
    dispatcher and the subscription routes take."""

    webhook_allow_private: bool | None = Field(
        None,
        description="Let webhooks go to private, loopback and link-local addresses "
        "(default: yes in development/test, no in production)",
    )
    webhook_timeout: float = Field(5.0, gt=0, le=60, description="Seconds one webhook POST may take")
    webhook_concurrency: int = Field(16, ge=1, le=256, description="Webhook POSTs in flight at once")
    webhook_retry_hours: float = Field(
        24.0, gt=0, le=24 * 7, description="Retry a failing webhook delivery this long, then dead-letter it"
    )
    webhook_interval: float = Field(2.0, ge=0.05, le=3600, description="Seconds between webhook dispatcher polls")

    def webhook_config(self) -> WebhookConfig:
        allow_private = self.webhook_allow_private
        return WebhookConfig(
            allow_private=(not self.is_production) if allow_private is None else allow_private,
            require_https=self.is_production,
            timeout=self.webhook_timeout,
            concurrency=self.webhook_concurrency,
            retry_window=dt.timedelta(hours=self.webhook_retry_hours),
            poll_interval=self.webhook_interval,
        )
