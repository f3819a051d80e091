"""The services' connection pools: one aiohttp session per service, an httpx client on top, a breaker.

The forwarder (:mod:`.forwarder`) talks to the aiohttp sessions directly: httpx's default
transport (httpcore on anyio) cost ~2,500 µs of CPU per proxied request here and grows with
concurrency; aiohttp costs a small fraction of that (bench/README.md has the measurements).
Other code keeps the httpx API: ``Upstreams.clients`` holds one ``httpx.AsyncClient`` per
service whose transport (``httpx_aiohttp.AiohttpTransport``) shares the same aiohttp session and
connection pool.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import aiohttp
import httpx
from httpx_aiohttp import AiohttpTransport

from ..config import GatewaySettings


@dataclass
class Breaker:
    """Stops hammering a dead service: after ``threshold`` failed connects, fail fast for ``cooldown``."""

    threshold: int = 5
    cooldown: float = 5.0
    failures: int = 0
    open_until: float = 0.0

    def allow(self) -> bool:
        return self.open_until == 0.0 or time.monotonic() >= self.open_until

    def success(self) -> None:
        if self.failures:
            self.failures = 0
            self.open_until = 0.0

    def failure(self) -> None:
        self.failures += 1
        if self.failures >= self.threshold:
            self.open_until = time.monotonic() + self.cooldown


@dataclass
class Upstreams:
    """The services' connection pools, opened in the gateway's lifespan (inside the event loop)."""

    urls: dict[str, str]
    connect_timeout: float = 1.0
    read_timeout: float = 15.0
    max_connections: int = 200
    # Below uvicorn's 5 s keep-alive, so the pool rarely picks a connection the service is closing.
    keepalive_timeout: float = 4.0
    clients: dict[str, httpx.AsyncClient] = field(default_factory=dict)
    sessions: dict[str, aiohttp.ClientSession] = field(default_factory=dict)
    bases: dict[str, str] = field(default_factory=dict)
    breakers: dict[str, Breaker] = field(default_factory=dict)

    @classmethod
    def from_settings(cls, settings: GatewaySettings) -> Upstreams:
        return cls(
            urls=settings.upstreams,
            connect_timeout=settings.upstream_connect_timeout,
            read_timeout=settings.upstream_read_timeout,
            max_connections=settings.upstream_max_connections,
        )

    def open(self) -> None:
        timeout = httpx.Timeout(self.read_timeout, connect=self.connect_timeout, pool=self.connect_timeout)
        limits = httpx.Limits(
            max_connections=self.max_connections,
            max_keepalive_connections=self.max_connections,
            keepalive_expiry=self.keepalive_timeout,
        )
        for name, url in self.urls.items():
            session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(
                    limit=self.max_connections,
                    keepalive_timeout=self.keepalive_timeout,
                    ttl_dns_cache=60,
                ),
                timeout=aiohttp.ClientTimeout(
                    total=None,
                    connect=self.connect_timeout,  # includes waiting for a free connection
                    sock_connect=self.connect_timeout,
                    sock_read=self.read_timeout,
                ),
                # Pass the client's headers and the service's bytes through untouched.
                auto_decompress=False,
                skip_auto_headers=("User-Agent", "Accept", "Accept-Encoding", "Content-Type"),
                cookie_jar=aiohttp.DummyCookieJar(),
            )
            self.sessions[name] = session
            self.bases[name] = url.rstrip("/")
            self.clients[name] = httpx.AsyncClient(
                base_url=url,
                timeout=timeout,
                follow_redirects=False,
                transport=AiohttpTransport(limits=limits, client=session),
            )
            self.breakers[name] = Breaker()

    async def close(self) -> None:
        for client in self.clients.values():
            await client.aclose()
        for session in self.sessions.values():
            await session.close()
        self.clients.clear()
        self.sessions.clear()
