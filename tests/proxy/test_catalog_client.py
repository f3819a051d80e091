"""The proxy reads the catalogue over HTTP with its own service token, caching with ETags, and
keeps serving its last good copy (with a stale marker) while the catalog is unreachable."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from pathlib import Path

import httpx
import jwt
import pytest
import time_machine
from sqlalchemy import text

from doorstep_proxy import catalog_copy
from doorstep_proxy.catalog_client import CatalogClient
from doorstep_proxy.catalog_copy import CatalogueCopy
from doorstep_shared.auth.service_keys import ServiceCredentials, ServiceKey
from doorstep_shared.clock import utcnow
from doorstep_shared.db.engine import create_engine
from doorstep_shared.db.session import make_sessionmaker
from doorstep_shared.http.errors import ServiceUnavailable
from doorstep_shared.http.health import Dependencies, DependencyState
from doorstep_shared.http.observability import Metrics

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
KEY = ServiceKey.generate("proxy", "proxy-k1")


def fake_catalog(calls: list[str], *, down: bool = False) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(f"{request.method} {request.url.path} {request.headers.get('if-none-match', '')}")
        if down:
            raise httpx.ConnectError("down")
        token = request.headers["authorization"].removeprefix("Bearer ")
        claims = jwt.decode(token, KEY.private_key.public_key(), algorithms=["EdDSA"], audience="catalog")
        assert claims["sub"] == "svc.proxy"
        if request.headers.get("if-none-match") == '"r7"':
            return httpx.Response(304)
        return httpx.Response(200, json=EXPORT, headers={"ETag": '"r7"'})

    return httpx.MockTransport(handler)


def changes(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "doorstep.dependencies"]


def client_on(transport: httpx.MockTransport, **kwargs: object) -> CatalogClient:
    http = httpx.AsyncClient(transport=transport)
    return CatalogClient(http, "http://catalog", ServiceCredentials(KEY), **kwargs)  # type: ignore[arg-type]


async def test_client_fetches_once_with_its_own_token_then_revalidates_with_etag() -> None:
    calls: list[str] = []
    client = client_on(fake_catalog(calls), ttl=0)
    item = await client.item("elderly-allowance")
    assert item is not None
    assert item.materials[0].name == "身份证复印件"
    assert await client.item("nope") is None  # fresh copy: unknown means unknown
    assert calls == ["GET /api/v1/catalog/export ", 'GET /api/v1/catalog/export "r7"']
    await client.http.aclose()


async def test_an_item_missing_from_an_older_copy_is_asked_for_again_at_once_not_after_the_ttl() -> None:
    calls: list[str] = []
    published = {"revision": 6, "items": []}

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.headers.get("if-none-match", ""))
        body = EXPORT if published["revision"] == 7 else published
        revision = body["revision"]
        etag = f'"r{revision}"'
        if request.headers.get("if-none-match") == etag:
            return httpx.Response(304)
        return httpx.Response(200, json=body, headers={"ETag": etag})

    client = client_on(httpx.MockTransport(handler), ttl=3600)
    with time_machine.travel(dt.datetime(2027, 3, 1, 9, 0, tzinfo=dt.UTC), tick=False) as traveller:
        assert await client.item("elderly-allowance") is None  # just fetched: unknown means unknown
        assert calls == [""]
        published["revision"] = 7  # the county publishes the item
        assert await client.item("elderly-allowance") is None  # within a second: the same copy
        traveller.shift(dt.timedelta(seconds=2))
        assert await client.item("elderly-allowance") is not None  # asked again, long before the ttl
        assert calls == ["", '"r6"']
        traveller.shift(dt.timedelta(seconds=2))
        assert await client.item("elderly-allowance") is not None  # a hit costs nothing
        assert await client.item("nope") is None  # a miss: one conditional GET, answered 304
        assert calls == ["", '"r6"', '"r7"']
    await client.http.aclose()


async def test_without_a_copy_a_down_catalog_is_a_503_and_the_dependency_unavailable() -> None:
    deps = Dependencies("proxy", Metrics("proxy").registry)
    client = client_on(fake_catalog([], down=True), ttl=0, dependencies=deps)
    with pytest.raises(ServiceUnavailable):
        await client.snapshot()
    assert deps.get("catalog").state is DependencyState.UNAVAILABLE
    await client.http.aclose()


async def test_a_down_catalog_serves_the_last_copy_marks_it_stale_logs_once_and_recovers_alone(
    caplog: pytest.LogCaptureFixture,
) -> None:
    calls: list[str] = []
    deps = Dependencies("proxy", Metrics("proxy").registry)
    client = client_on(fake_catalog(calls), ttl=30, dependencies=deps)
    await client.snapshot()
    confirmed = client._confirmed
    client.http = httpx.AsyncClient(transport=fake_catalog(calls, down=True))
    with caplog.at_level(logging.ERROR, logger="doorstep.dependencies"):
        with time_machine.travel(utcnow() + dt.timedelta(minutes=10), tick=True):
            for _ in range(5):
                assert (await client.item("elderly-allowance")) is not None
            assert client.stale_since == confirmed
            assert deps.get("catalog").state is DependencyState.DEGRADED
            with pytest.raises(ServiceUnavailable):  # may have been added since: cannot tell
                await client.item("added-during-the-outage")
        assert len(changes(caplog)) == 1
        client.http = httpx.AsyncClient(transport=fake_catalog(calls))
        with time_machine.travel(utcnow() + dt.timedelta(minutes=11), tick=True):
            await client.snapshot()
    assert client.stale_since is None
    assert deps.get("catalog").state is DependencyState.OK
    assert [r.levelname for r in changes(caplog)] == ["ERROR", "ERROR"]  # down, and back
    assert len(calls) == 3  # the first fetch, one failed try per ttl (not per request), the recovery


async def test_a_request_inside_its_own_write_transaction_gets_the_catalogue_at_once(tmp_path: Path) -> None:
    """Accepting a case reads the catalogue inside the request's write transaction. The fetched
    copy is written down in its own task: on SQLite, writing it on the request's path waited for
    the request's own write lock (a fresh proxy's first case timed out at the gateway)."""
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'proxy.db'}")
    try:
        async with engine.begin() as conn:
            await conn.run_sync(CatalogueCopy.__table__.create)  # type: ignore[attr-defined]
            await conn.execute(text("CREATE TABLE work (n INTEGER)"))
        maker = make_sessionmaker(engine)
        client = client_on(fake_catalog([]), sessionmaker=maker)
        async with maker() as request_session:
            await request_session.execute(text("INSERT INTO work VALUES (1)"))  # holds the write lock
            snapshot = await asyncio.wait_for(client.snapshot(), timeout=3)
            assert snapshot.items["elderly-allowance"].name == "高龄补贴"
            await request_session.commit()
        await asyncio.wait_for(client.stored(), timeout=10)
        async with maker() as session:
            row = await catalog_copy.load(session)
        assert row is not None and row.revision == 7 and row.etag == '"r7"'
    finally:
        await engine.dispose()
