"""The proxy reads the catalogue over HTTP with its own machine token, caching with ETags."""

from __future__ import annotations

import httpx
import pytest

from doorstep_proxy.catalog_client import CatalogClient, ServiceToken
from doorstep_shared.http.errors import ServiceUnavailable

EXPORT = {
    "revision": 7,
    "items": [
        {
            "code": "elderly-allowance",
            "name": "高龄补贴",
            "materials": [{"name": "身份证复印件", "form": "copy"}],
            "promised_days": 10,
            "extra": 1,
        }
    ],
}


def fake_catalog(calls: list[str], *, down: bool = False) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(f"{request.method} {request.url.path} {request.headers.get('if-none-match', '')}")
        if request.url.path.endswith("/token"):
            assert request.headers["authorization"].startswith("Basic ")
            return httpx.Response(200, json={"access_token": "svc-token", "expires_in": 900})
        if down:
            raise httpx.ConnectError("down")
        assert request.headers["authorization"] == "Bearer svc-token"
        if request.headers.get("if-none-match") == '"r7"':
            return httpx.Response(304)
        return httpx.Response(200, json=EXPORT, headers={"ETag": '"r7"'})

    return httpx.MockTransport(handler)


async def test_client_fetches_once_then_revalidates_with_etag() -> None:
    calls: list[str] = []
    async with httpx.AsyncClient(transport=fake_catalog(calls)) as http:
        client = CatalogClient(
            http, "http://catalog", ServiceToken(http, "http://gw/api/v1/auth/token", "svc.proxy", "s"), ttl=0
        )
        item = await client.item("elderly-allowance")
        assert item is not None
        assert item.materials[0].name == "身份证复印件"
        assert await client.item("nope") is None
    assert calls == [
        "POST /api/v1/auth/token ",
        "GET /api/v1/catalog/export ",
        'GET /api/v1/catalog/export "r7"',
    ]


async def test_a_down_catalog_serves_the_last_copy_or_a_503_without_one() -> None:
    calls: list[str] = []
    async with httpx.AsyncClient(transport=fake_catalog(calls, down=True)) as http:
        client = CatalogClient(http, "http://catalog", ServiceToken(http, "http://gw/token", "svc.proxy", "s"), ttl=0)
        with pytest.raises(ServiceUnavailable):
            await client.snapshot()
    calls = []
    async with httpx.AsyncClient(transport=fake_catalog(calls)) as http:
        client = CatalogClient(http, "http://catalog", ServiceToken(http, "http://gw/token", "svc.proxy", "s"), ttl=0)
        await client.snapshot()
        client.http = httpx.AsyncClient(transport=fake_catalog(calls, down=True))
        snapshot = await client.snapshot()
        assert snapshot.revision == 7
        await client.http.aclose()
