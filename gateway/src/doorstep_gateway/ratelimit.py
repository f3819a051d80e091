"""Rate limits at the gateway (pure ASGI), with counters shared through Redis when configured.

* the token endpoint: per client IP (brute force);
* everything else: per principal (a machine client's own quota, or the user limit), and per IP
  for requests without a valid token.
Counters live in process memory for one gateway, or in Redis (``DOORSTEP_GATEWAY_REDIS_URL``) so
that several replicas share them. A limited request gets 429 problem+json with ``Retry-After``.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable

from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage, Storage
from limits.aio.strategies import SlidingWindowCounterRateLimiter
from limits.storage import storage_from_string
from limits.util import WindowStats
from starlette.types import ASGIApp, Receive, Scope, Send

from doorstep_shared.errors import Unauthorized, problem_response
from doorstep_shared.tokens import TokenVerifier

logger = logging.getLogger("doorstep.gateway.ratelimit")

TOKEN_PATH = "/api/v1/auth/token"  # noqa: S105 (a path)
EXEMPT = frozenset({"/healthz", "/readyz", "/metrics"})


def make_storage(redis_url: str | None) -> Storage:
    if not redis_url:
        return MemoryStorage()
    url = redis_url if redis_url.startswith("async+") else f"async+{redis_url}"
    storage = storage_from_string(url)
    assert isinstance(storage, Storage)
    return storage


class RateLimitMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        storage: Storage,
        verifier_of: Callable[[], TokenVerifier],
        token_limit: str,
        user_limit: str,
        anonymous_limit: str,
    ) -> None:
        self.app = app
        self.limiter = SlidingWindowCounterRateLimiter(storage)
        self.verifier_of = verifier_of
        self.token_limit = parse(token_limit)
        self.user_limit = parse(user_limit)
        self.anonymous_limit = parse(anonymous_limit)
        self._client_limits: dict[int, RateLimitItem] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in EXEMPT:
            await self.app(scope, receive, send)
            return
        item, key = await self._classify(scope)
        try:
            allowed = await self.limiter.hit(item, key)
        except Exception as exc:  # a broken counter store must not take the API down
            logger.warning("rate-limit store unavailable (%s); allowing the request", type(exc).__name__)
            allowed = True
        if allowed:
            await self.app(scope, receive, send)
            return
        stats: WindowStats = await self.limiter.get_window_stats(item, key)
        retry_after = max(1, math.ceil(stats.reset_time - time.time()))
        response = problem_response(
            429,
            "rate_limited",
            f"Too many requests; limit {item}. Retry after {retry_after} s.",
            headers={"Retry-After": str(retry_after)},
        )
        await response(scope, receive, send)

    async def _classify(self, scope: Scope) -> tuple[RateLimitItem, str]:
        ip = scope["client"][0] if scope.get("client") else "unknown"
        if scope["path"] == TOKEN_PATH:
            return self.token_limit, f"token-ip:{ip}"
        authorization = next((v for k, v in scope["headers"] if k == b"authorization"), None)
        if authorization and authorization[:7].lower() == b"bearer ":
            try:
                principal = await self.verifier_of().verify(authorization[7:].decode("latin-1").strip())
            except Unauthorized:
                return self.anonymous_limit, f"ip:{ip}"
            if principal.quota_per_minute:
                item = self._client_limits.get(principal.quota_per_minute)
                if item is None:
                    item = self._client_limits.setdefault(
                        principal.quota_per_minute, parse(f"{principal.quota_per_minute}/minute")
                    )
                return item, f"{principal.kind}:{principal.subject}"
            return self.user_limit, f"{principal.kind}:{principal.subject}"
        return self.anonymous_limit, f"ip:{ip}"
