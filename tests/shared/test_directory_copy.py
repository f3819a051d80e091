"""The services' copy of the org directory: polled with If-None-Match, last good copy kept,
the file standing in while the gateway serves no export."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from prometheus_client import CollectorRegistry
from pydantic_settings import SettingsConfigDict
from sqlalchemy import MetaData
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

from doorstep_shared.config import DirectorySettings
from doorstep_shared.db.directory_store import DirectoryStore, directory_copy_table
from doorstep_shared.directory import Directory, demo_directory_file
from doorstep_shared.directory_copy import DirectoryCopy, read_directory_file
from doorstep_shared.http.errors import ServiceUnavailable
from doorstep_shared.http.health import Dependencies

DEMO = read_directory_file(demo_directory_file())
GATEWAY = "http://gateway.test"


def redrawn(directory: Directory, compound: str, grid: str) -> Directory:
    compounds = [replace(c, grid=grid) if c.code == compound else c for c in directory.compounds]
    return Directory.of(directory.counties, directory.communities, directory.grids, compounds)


class Export:
    """The gateway's export endpoint: serves ``directory`` with its ETag, or ``fail`` (a status)."""

    def __init__(self, directory: Directory | None) -> None:
        self.directory = directory
        self.fail: int | None = None
        self.refuse = False
        self.asked: list[str | None] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/api/v1/directory/export"
        self.asked.append(request.headers.get("if-none-match"))
        if self.refuse:
            raise httpx.ConnectError("refused", request=request)
        if self.fail is not None or self.directory is None:
            return httpx.Response(self.fail or 404, json={"code": "not_found"})
        etag = f'"{self.directory.revision}"'
        if request.headers.get("if-none-match") == etag:
            return httpx.Response(304, headers={"ETag": etag})
        return httpx.Response(200, json=self.directory.to_export(), headers={"ETag": etag})


def copy_of(export: Export, file: Path | None = None) -> tuple[DirectoryCopy, Dependencies]:
    deps = Dependencies("test", CollectorRegistry())
    http = httpx.AsyncClient(transport=httpx.MockTransport(export))
    return DirectoryCopy(url=GATEWAY, file=file, http=http, dependencies=deps), deps


async def test_a_304_keeps_the_copy_and_a_new_revision_swaps_it_for_the_listeners() -> None:
    export = Export(DEMO)
    copy, deps = copy_of(export)
    seen: list[tuple[str | None, str]] = []

    async def listener(before: Directory | None, after: Directory) -> None:
        seen.append((before.revision if before else None, after.revision))

    copy.on_change(listener)
    assert await copy.refresh() is True
    assert copy.directory() == DEMO and copy.source == "url"
    assert await copy.refresh() is False
    assert export.asked == [None, f'"{DEMO.revision}"']
    moved = redrawn(DEMO, "binjiang", "chaoyang-g1")
    export.directory = moved
    assert await copy.refresh() is True
    assert copy.directory().compound("binjiang").grid == "chaoyang-g1"  # type: ignore[union-attr]
    assert seen == [(None, DEMO.revision), (DEMO.revision, moved.revision)]
    assert deps.read()["directory"]["state"] == "ok"


async def test_errors_keep_the_last_good_copy_degraded_until_the_gateway_answers_again() -> None:
    export = Export(DEMO)
    copy, deps = copy_of(export, file=demo_directory_file())
    await copy.refresh()
    export.fail = 500
    assert await copy.refresh() is False
    assert copy.directory() == DEMO and copy.source == "url"
    assert deps.read()["directory"]["state"] == "degraded"
    export.refuse = True
    await copy.refresh()
    assert copy.source == "url" and deps.read()["directory"]["state"] == "degraded"
    export.fail, export.refuse = None, False
    await copy.refresh()
    assert deps.read()["directory"]["state"] == "ok"


async def test_without_an_export_the_file_stands_in_and_without_either_there_is_no_directory(tmp_path: Path) -> None:
    export = Export(None)  # a gateway without the export yet: 404
    copy, deps = copy_of(export, file=demo_directory_file())
    await copy.refresh()
    assert copy.directory() == DEMO and copy.source == "file"
    assert deps.read()["directory"]["state"] == "ok"
    export.directory = redrawn(DEMO, "binjiang", "chaoyang-g2")  # the export appears: it wins
    await copy.refresh()
    assert copy.source == "url" and copy.directory().revision == export.directory.revision

    nothing, deps = copy_of(Export(None))
    await nothing.refresh()
    assert deps.read()["directory"]["state"] == "unavailable"
    with pytest.raises(ServiceUnavailable):
        nothing.directory()


async def test_a_failed_listener_is_called_again_at_the_next_poll() -> None:
    copy, _ = copy_of(Export(DEMO))
    calls = 0

    async def flaky(before: Directory | None, after: Directory) -> None:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("database down")

    copy.on_change(flaky)
    await copy.refresh()
    assert copy.applied is None
    await copy.refresh()
    await copy.refresh()
    assert calls == 2 and copy.applied == DEMO


def test_a_file_is_read_as_an_export_document_or_an_import_sheet(tmp_path: Path) -> None:
    exported = tmp_path / "directory.json"
    exported.write_text(json.dumps(DEMO.to_export(), ensure_ascii=False))
    assert read_directory_file(exported) == DEMO
    bad = tmp_path / "bad.csv"
    bad.write_text("county_code,county_name\nHe Xian,和县\n")
    with pytest.raises(ValueError, match="line 2"):
        read_directory_file(bad)


def test_outside_production_the_demo_file_stands_in_and_production_names_its_own_source() -> None:
    class Settings(DirectorySettings):
        model_config = SettingsConfigDict(env_prefix="DOORSTEP_TESTAPP_", extra="ignore")

    assert Settings(environment="test").directory_source() == (None, demo_directory_file())
    assert Settings(environment="development", directory_url=GATEWAY).directory_source() == (
        GATEWAY,
        demo_directory_file(),
    )
    production = Settings(environment="production", database_url="postgresql+asyncpg://x/y", directory_url=GATEWAY)
    assert production.directory_source() == (GATEWAY, None)


async def test_a_restart_while_the_gateway_is_down_serves_the_stored_copy_degraded(tmp_path: Path) -> None:
    metadata = MetaData()
    table = directory_copy_table(metadata)
    engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'copy.db'}")
    try:
        async with engine.begin() as conn:
            await conn.run_sync(metadata.create_all)
        store = DirectoryStore(table, async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False))
        moved = redrawn(DEMO, "binjiang", "chaoyang-g1")
        export = Export(moved)
        first, _ = copy_of(export, file=demo_directory_file())
        first.store = store
        await first.refresh()
        export.refuse = True  # the gateway goes down; this replica restarts
        second, deps = copy_of(export, file=demo_directory_file())
        second.store = store
        await second.refresh()
        assert second.directory() == moved and second.source == "url"  # not the (older) file
        assert deps.read()["directory"]["state"] == "degraded"
        export.refuse = False
        await second.refresh()
        assert export.asked[-1] == f'"{moved.revision}"'  # revalidated: a 304
        assert deps.read()["directory"]["state"] == "ok"
    finally:
        await engine.dispose()
