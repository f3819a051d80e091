"""Rate limits at the gateway (pure ASGI), with counters shared through Redis when configured.

* the token endpoint: per client IP (brute force);
* everything else: per principal (a machine client's own quota, or the user limit), and per IP
  for requests without a valid token.
Counters live in process memory for one gateway, or in Redis (``DOORSTEP_GATEWAY_REDIS_URL``) so
that several replicas share them. Both count the same way (a sliding-window counter: this
window's hits plus the previous window's, weighted by how much of it still overlaps). A limited
request gets 429 problem+json with ``Retry-After``.

The verified principal is left in ``scope["state"]["principal"]`` (or the ``Unauthorized``
that rejected the token, under ``"token_error"``) so that the forwarder does not look the
token up a second time.

A batch (``POST /api/v1/proxy/batch``) counts as its number of operations: the client states it
in ``Doorstep-Batch-Size`` (1–100; anything else counts 1) and the proxy refuses a batch whose
header differs from its ``operations`` (422 ``batch_size_mismatch``). The header, not the body:
the limiter runs before a body is read and parses none; the proxy, which parses it anyway, checks.

Open311 (``/open311/``) takes a GeoReport ``api_key`` (query or form) instead of a bearer token,
and lists services to anyone: its requests without a bearer token pass here uncounted, with this
limiter in ``scope["state"]["rate_limit"]``; the Open311 credential check counts each of them
(``admit``) once it knows the caller, against the client's quota or the per-address limit.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from typing import Protocol

from limits import RateLimitItem, parse
from limits.aio.storage import Storage
from limits.aio.strategies import SlidingWindowCounterRateLimiter
from limits.storage import storage_from_string
from starlette.types import ASGIApp, Receive, Scope, Send

from doorstep_shared.auth.tokens import Principal, TokenVerifier
from doorstep_shared.clock import epoch_seconds
from doorstep_shared.http.errors import Unauthorized, problem_response

logger = logging.getLogger("doorstep.gateway.ratelimit")

TOKEN_PATH = "/api/v1/auth/token"  # noqa: S105 (a path)
# Paths that try a secret without a token (passwords, activation codes): limited per address together.
SECRET_PATHS = frozenset({TOKEN_PATH, "/api/v1/auth/activate"})
OPEN311_PREFIX = "/open311/"
EXEMPT = frozenset({"/healthz", "/readyz", "/metrics"})
BATCH_PATH = "/api/v1/proxy/batch"
BATCH_SIZE_HEADER = b"doorstep-batch-size"
MAX_BATCH = 100
_SWEEP_EVERY = 60.0  # seconds between passes that forget idle keys


class Limiter(Protocol):
    async def hit(self, item: RateLimitItem, key: str, cost: int = 1) -> bool:
        """Count ``cost`` requests; False if they are over the limit (and then none is counted)."""

    async def retry_after(self, item: RateLimitItem, key: str) -> int:
        """Whole seconds until a request under ``key`` would be allowed again."""


class SharedLimiter:
    """Counters in Redis through the ``limits`` library, shared by every gateway replica."""

    def __init__(self, redis_url: str) -> None:
        url = redis_url if redis_url.startswith("async+") else f"async+{redis_url}"
        storage = storage_from_string(url)
        assert isinstance(storage, Storage)
        self._limiter = SlidingWindowCounterRateLimiter(storage)

    async def hit(self, item: RateLimitItem, key: str, cost: int = 1) -> bool:
        return await self._limiter.hit(item, key, cost=cost)

    async def retry_after(self, item: RateLimitItem, key: str) -> int:
        stats = await self._limiter.get_window_stats(item, key)
        return max(1, math.ceil(stats.reset_time - epoch_seconds()))


class LocalLimiter:
    """Sliding-window counters in this process, for a single gateway.

    Hand-rolled because ``limits``' in-memory storage costs ~15 µs per hit plus an expiry task
    per request on the event loop; this is a dict lookup and a few arithmetic operations.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        # (key, period) -> [window number, hits in it, hits in the window before]
        self._windows: dict[tuple[str, int], list[int]] = {}
        self._next_sweep = clock() + _SWEEP_EVERY

    def _window(self, period: int, key: str, now: float) -> list[int]:
        number = int(now // period)
        window = self._windows.get((key, period))
        if window is None:
            if now >= self._next_sweep:
                self._sweep(now)
            window = self._windows[(key, period)] = [number, 0, 0]
        elif window[0] != number:
            window[2] = window[1] if window[0] == number - 1 else 0
            window[0], window[1] = number, 0
        return window

    def _sweep(self, now: float) -> None:
        """Forget keys whose windows have both passed (they count as zero anyway)."""
        self._next_sweep = now + _SWEEP_EVERY
        stale = [k for k, w in self._windows.items() if w[0] < int(now // k[1]) - 1]
        for k in stale:
            del self._windows[k]

    async def hit(self, item: RateLimitItem, key: str, cost: int = 1) -> bool:
        now = self._clock()
        period = item.get_expiry()
        window = self._window(period, key, now)
        overlap = 1.0 - (now % period) / period
        if window[2] * overlap + window[1] + cost > item.amount:
            return False
        window[1] += cost
        return True

    async def retry_after(self, item: RateLimitItem, key: str) -> int:
        now = self._clock()
        period = item.get_expiry()
        _, current, previous = self._window(period, key, now)
        into = now % period
        if current + 1 > item.amount:
            # Wait for the next window, then for this window's hits (its "previous") to fade.
            wait = period - into + (period * (1 - (item.amount - 1) / current) if current else 0)
        elif previous:
            # Wait until enough of the previous window has slid out.
            wait = period * (1 - (item.amount - current - 1) / previous) - into
        else:
            wait = 0
        return max(1, math.ceil(wait))


def make_limiter(redis_url: str | None) -> Limiter:
    return SharedLimiter(redis_url) if redis_url else LocalLimiter()


class RateLimitMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        limiter: Limiter,
        verifier_of: Callable[[], TokenVerifier],
        token_limit: str,
        user_limit: str,
        anonymous_limit: str,
    ) -> None:
        self.app = app
        self.limiter = limiter
        self.verifier_of = verifier_of
        self.token_limit = parse(token_limit)
        self.user_limit = parse(user_limit)
        self.anonymous_limit = parse(anonymous_limit)
        self._client_limits: dict[int, RateLimitItem] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in EXEMPT:
            await self.app(scope, receive, send)
            return
        if scope["path"].startswith(OPEN311_PREFIX) and _bearer(scope) is None:
            scope.setdefault("state", {})["rate_limit"] = self  # counted by admit, once the caller is known
            await self.app(scope, receive, send)
            return
        item, key = await self._classify(scope)
        retry_after = await self._hit(item, key, _cost(scope))
        if retry_after is None:
            await self.app(scope, receive, send)
            return
        response = problem_response(
            429,
            "rate_limited",
            f"Too many requests; limit {item}. Retry after {retry_after} s.",
            headers={"Retry-After": str(retry_after)},
        )
        await response(scope, receive, send)

    async def _hit(self, item: RateLimitItem, key: str, cost: int = 1) -> int | None:
        """None when the call is allowed; otherwise the seconds to wait."""
        try:
            allowed = await self.limiter.hit(item, key, cost)
        except Exception as exc:  # a broken counter store must not take the API down
            logger.warning("rate-limit store unavailable (%s); allowing the request", type(exc).__name__)
            allowed = True
        return None if allowed else await self.limiter.retry_after(item, key)

    async def admit(self, scope: Scope, principal: Principal | None) -> int | None:
        """Counts one call whose caller the app identified itself (``principal``, or None for an
        anonymous one): None when allowed, otherwise the seconds to wait."""
        if principal is None:
            ip = scope["client"][0] if scope.get("client") else "unknown"
            return await self._hit(self.anonymous_limit, f"ip:{ip}")
        return await self._hit(*self._principal_limit(principal))

    async def _classify(self, scope: Scope) -> tuple[RateLimitItem, str]:
        ip = scope["client"][0] if scope.get("client") else "unknown"
        if scope["path"] in SECRET_PATHS:
            return self.token_limit, f"token-ip:{ip}"
        token = _bearer(scope)
        if token is not None:
            state = scope.setdefault("state", {})
            try:
                principal = await self.verifier_of().verify(token)
            except Unauthorized as exc:
                state["token_error"] = exc
                return self.anonymous_limit, f"ip:{ip}"
            state["principal"] = principal
            return self._principal_limit(principal)
        return self.anonymous_limit, f"ip:{ip}"

    def _principal_limit(self, principal: Principal) -> tuple[RateLimitItem, str]:
        """A machine client's own quota, or the user limit; counted per principal."""
        if principal.quota_per_minute:
            item = self._client_limits.get(principal.quota_per_minute)
            if item is None:
                item = self._client_limits.setdefault(
                    principal.quota_per_minute, parse(f"{principal.quota_per_minute}/minute")
                )
            return item, f"{principal.kind}:{principal.subject}"
        return self.user_limit, f"{principal.kind}:{principal.subject}"


def _cost(scope: Scope) -> int:
    """How many requests this one counts for: a batch's operations, else 1."""
    if scope["path"] != BATCH_PATH or scope["method"] != "POST":
        return 1
    declared = next((v for k, v in scope["headers"] if k == BATCH_SIZE_HEADER), b"")
    return int(declared) if declared.isdigit() and 1 <= int(declared) <= MAX_BATCH else 1


def _bearer(scope: Scope) -> str | None:
    authorization = next((v for k, v in scope["headers"] if k == b"authorization"), None)
    if authorization and authorization[:7].lower() == b"bearer ":
        token: str = authorization[7:].decode("latin-1").strip()
        return token
    return None
