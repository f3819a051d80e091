"""429 with Retry-After, per IP at the token endpoint and per principal elsewhere; Redis shares counters."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

import pytest
from fastapi import FastAPI
from limits import parse

from doorstep_gateway.config import GatewaySettings
from doorstep_gateway.forwarding.ratelimit import LocalLimiter
from doorstep_gateway.main import create_app

from ...support import Tokens, client_for, running

REDIS_URL = os.environ.get("DOORSTEP_TEST_REDIS_URL", "")


@asynccontextmanager
async def limited_gateway(tokens: Tokens, tmp: str, **limits: str) -> AsyncIterator[FastAPI]:
    settings = GatewaySettings(
        environment="test",
        database_url=f"sqlite+aiosqlite:///{tmp}/unused.db",
        log_json=False,
        catalog_url="http://127.0.0.1:9",
        proxy_url="http://127.0.0.1:9",
        stations_url="http://127.0.0.1:9",
        **limits,
    )
    async with running(create_app(settings, signing_key=tokens.key)) as app:
        yield app


async def test_token_endpoint_is_limited_per_ip_with_retry_after(tokens: Tokens, tmp_path: object) -> None:
    async with limited_gateway(tokens, str(tmp_path), rate_limit_token="3/minute") as app, client_for(app) as client:
        codes = []
        for _ in range(4):
            resp = await client.post("/api/v1/auth/token", data={"grant_type": "implicit"})
            codes.append(resp.status_code)
        assert codes == [400, 400, 400, 429]
        assert resp.headers["content-type"] == "application/problem+json"
        # Sliding window: this minute's hits keep counting (fading) through the next minute.
        assert 1 <= int(resp.headers["retry-after"]) <= 120


async def test_each_principal_has_its_own_budget_and_clients_their_quota(tokens: Tokens, tmp_path: object) -> None:
    async with limited_gateway(tokens, str(tmp_path), rate_limit_user="2/minute") as app, client_for(app) as client:
        alice = tokens.headers("social_worker", subject="alice")
        bob = tokens.headers("social_worker", subject="bob")
        assert [(await client.get("/api/v1/auth/me", headers=alice)).status_code for _ in range(3)] == [200, 200, 429]
        assert (await client.get("/api/v1/auth/me", headers=bob)).status_code == 200
        platform = tokens.signer.access_token(
            tokens.principal(None, kind="client", scopes=("catalog:read",), subject="platform").__class__(
                subject="platform", kind="client", name="p", scopes=frozenset({"catalog:read"}), quota_per_minute=4
            )
        )[0]
        codes = [
            (await client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {platform}"})).status_code
            for _ in range(5)
        ]
        assert codes == [200, 200, 200, 200, 429]


async def test_open311_calls_without_a_token_are_counted_per_address_in_the_specs_format(
    tokens: Tokens, tmp_path: object
) -> None:
    """Open311 takes an api_key instead of a token: such calls pass the middleware and are counted
    by the Open311 credential check (test_api_key.py: a key's calls count against its client)."""
    async with (
        limited_gateway(tokens, str(tmp_path), rate_limit_anonymous="2/minute") as app,
        client_for(app) as client,
    ):
        codes = [(await client.get("/open311/v2/services.json")).status_code for _ in range(2)]
        assert codes == [400, 400]  # public, but the catalog of this gateway is unreachable
        limited = await client.get("/open311/v2/nothing-here.json")
        assert limited.status_code == 429 and limited.headers["content-type"] == "application/json; charset=utf-8"
        assert "Too many requests" in limited.json()[0]["description"]
        assert 1 <= int(limited.headers["retry-after"]) <= 120


@pytest.mark.skipif(not REDIS_URL, reason="DOORSTEP_TEST_REDIS_URL not set (CI sets it)")
async def test_two_gateway_replicas_share_counters_through_redis(tokens: Tokens, tmp_path: object) -> None:
    subject = f"shared-{uuid.uuid4().hex[:8]}"
    headers = tokens.headers("social_worker", subject=subject)
    async with AsyncExitStack() as stack:
        apps = [
            await stack.enter_async_context(
                limited_gateway(tokens, str(tmp_path), rate_limit_user="3/minute", redis_url=REDIS_URL)
            )
            for _ in range(2)
        ]
        clients = [await stack.enter_async_context(client_for(app)) for app in apps]
        codes = [(await clients[i % 2].get("/api/v1/auth/me", headers=headers)).status_code for i in range(4)]
        assert codes == [200, 200, 200, 429]


@pytest.mark.parametrize("start", [0.0, 30.0, 59.5])
async def test_local_limiter_slides_and_its_retry_after_is_when_a_request_passes_again(start: float) -> None:
    now = [1_000_000 * 60 + start]
    limiter = LocalLimiter(clock=lambda: now[0])
    item = parse("3/minute")
    assert [await limiter.hit(item, "user:a") for _ in range(4)] == [True, True, True, False]
    assert await limiter.hit(item, "user:b")  # keys are independent
    wait = await limiter.retry_after(item, "user:a")
    now[0] += wait - 1
    assert not await limiter.hit(item, "user:a")
    now[0] += 1
    assert await limiter.hit(item, "user:a")
    now[0] += 120  # both windows passed: the full budget again
    assert [await limiter.hit(item, "user:a") for _ in range(4)] == [True, True, True, False]


async def test_local_limiter_forgets_idle_keys() -> None:
    now = [0.0]
    limiter = LocalLimiter(clock=lambda: now[0])
    item = parse("10/minute")
    for i in range(100):
        await limiter.hit(item, f"ip:10.0.0.{i}")
    now[0] += 3600
    await limiter.hit(item, "ip:10.0.1.1")
    assert len(limiter._windows) == 1


async def test_a_batch_counts_as_its_operations(tokens: Tokens, tmp_path: object) -> None:
    """Doorstep-Batch-Size (checked by the proxy against the body) is what a batch costs."""
    async with limited_gateway(tokens, str(tmp_path), rate_limit_user="5/minute") as app, client_for(app) as client:
        h = tokens.headers("social_worker", subject="batcher")

        async def send(size: str) -> int:
            resp = await client.post("/api/v1/proxy/batch", json={}, headers={**h, "Doorstep-Batch-Size": size})
            return resp.status_code

        assert await send("4") != 429  # forwarded (this gateway's proxy is unreachable)
        assert await send("2") == 429  # 4 + 2 > 5: refused, and not counted
        assert await send("junk") != 429  # counts 1, and the proxy refuses the mismatch
        assert (await client.get("/api/v1/auth/me", headers=h)).status_code == 429
    limiter = LocalLimiter(clock=lambda: 0.0)
    item = parse("3/minute")
    assert await limiter.hit(item, "k", 3) and not await limiter.hit(item, "k")
