"""The stations service follows the gateway's directory without a restart: a new compound takes
a station within seconds, and a compound moved to another community takes its station along."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from fastapi import FastAPI

from doorstep_shared.directory import Compound
from doorstep_stations.config import StationsSettings
from doorstep_stations.main import create_app
from doorstep_stations.placement import service as placement

from ..directory_support import DEMO, ExportServer, redrawn, serving, with_compound, within
from ..support import Tokens, client_for, create_database, drop_database, running
from .helpers import county

API = "/api/v1/stations"
NEW = Compound("xinyuan", "新苑", "chaoyang", "chaoyang-g3", address="朝阳社区新苑")


@pytest.fixture(scope="module")
async def followed(
    db_backend: str, tokens: Tokens, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[tuple[FastAPI, ExportServer]]:
    db = await create_database("doorstep_stations", db_backend, tmp_path_factory.mktemp("stations-follow"))
    try:
        async with serving(DEMO) as export:
            settings = StationsSettings(
                environment="test",
                database_url=db.url,
                database_schema=db.schema,
                log_json=False,
                worker_enabled=False,
                var_dir=tmp_path_factory.mktemp("stations-follow-var"),
                directory_url=export.url,
                directory_poll_seconds=0.2,
            )
            async with running(create_app(settings, key_set=tokens.key_set())) as app:
                yield app, export
    finally:
        await drop_database(db)


def station(code: str, compound: str, community: str = "chaoyang") -> dict[str, object]:
    return {
        "code": code,
        "name": f"{code}驿站",
        "community": community,
        "compound": compound,
        "latitude": 31.71,
        "longitude": 118.36,
    }


async def test_a_compound_added_at_the_gateway_takes_a_station_within_five_seconds(
    followed: tuple[FastAPI, ExportServer], tokens: Tokens
) -> None:
    app, export = followed
    async with client_for(app) as client:
        refused = await client.post(f"{API}/stations", json=station("xinyuan", NEW.code), headers=county(tokens))
        assert refused.status_code == 422 and "body.compound" in refused.text
        export.directory = with_compound(DEMO, NEW)

        async def accepted() -> bool:
            resp = await client.post(f"{API}/stations", json=station("xinyuan", NEW.code), headers=county(tokens))
            return resp.status_code == 201

        await within(5.0, accepted)
        hits = (await client.get(f"{API}/stations", params={"q": "新苑"}, headers=county(tokens))).json()
        assert "xinyuan" in [h["code"] for h in hits["items"]]


async def test_a_compound_moved_to_another_community_takes_its_station_along_once(
    followed: tuple[FastAPI, ExportServer], tokens: Tokens
) -> None:
    app, export = followed
    async with client_for(app) as client:
        resp = await client.post(f"{API}/stations", json=station("jingdu", "jingdu"), headers=county(tokens))
        assert resp.status_code == 201, resp.text
        version = resp.json()["version"]
        moved = redrawn(with_compound(DEMO, NEW), "jingdu", community="zhenhuai", grid="zhenhuai-g1")
        export.directory = moved

        async def rehomed() -> bool:
            got = (await client.get(f"{API}/stations/jingdu", headers=county(tokens))).json()
            return bool(got["community"] == "zhenhuai")

        await within(5.0, rehomed)
        got = (await client.get(f"{API}/stations/jingdu", headers=county(tokens))).json()
        assert got["version"] == version + 1
        async with app.state.sessionmaker() as session:
            assert await placement.follow(session, moved) == {}  # applying it again moves nothing
