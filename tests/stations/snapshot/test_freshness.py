"""The snapshot follows every write: each write that changes what the hot reads show bumps the
revision in its own transaction, this process answers its own write at once, another process
(a second app instance on the same database) within the check interval; reads between writes
touch no database and build nothing."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator, Awaitable, Callable

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text

from doorstep_shared.directory import Directory
from doorstep_shared.staff_roster import StaffRoster, demo_roster
from doorstep_stations.main import create_app
from doorstep_stations.placement import service as placement
from doorstep_stations.snapshot.service import StationsSnapshot
from doorstep_stations.stations import service as stations_service

from ...directory_support import redrawn
from ...support import Tokens, client_for, running
from ..helpers import county, freeze, keeper, local, seed_demo, worker

API = "/api/v1/stations/stations"


async def _revision(app: FastAPI) -> tuple[str, int]:
    async with app.state.sessionmaker() as session:
        return await stations_service.revision(session)


@pytest.fixture
async def demo(stations: httpx.AsyncClient, stations_app: FastAPI) -> httpx.AsyncClient:
    await seed_demo(stations_app)
    return stations


@pytest.fixture
async def second(stations_app: FastAPI, tokens: Tokens) -> AsyncIterator[FastAPI]:
    """Another process: a second app instance on the same database (its own engine, snapshot
    and committed-bumps counter)."""
    settings = stations_app.state.settings.model_copy(update={"database_pool_size": 2})
    async with running(create_app(settings, key_set=tokens.key_set())) as app:
        yield app


async def test_the_seed_and_every_write_bump_the_revision_once(
    demo: httpx.AsyncClient, stations_app: FastAPI, tokens: Tokens
) -> None:
    epoch, seeded = await _revision(stations_app)
    assert epoch and seeded == 1
    admin, hk = county(tokens), keeper(tokens)
    rule_id: list[int] = []
    exception_id: list[int] = []

    async def add_rule() -> httpx.Response:
        r = await demo.post(
            f"{API}/shuxiang/hours/rules", json={"weekdays": [5], "opens": "09:00", "closes": "10:00"}, headers=hk
        )
        rule_id.append(r.json()[0]["id"])
        return r

    async def add_exception() -> httpx.Response:
        r = await demo.post(
            f"{API}/shuxiang/hours/exceptions",
            json={"kind": "closed", "start_date": "2026-12-24", "end_date": "2026-12-25"},
            headers=hk,
        )
        exception_id.append(r.json()["id"])
        return r

    body = {
        "code": "probe",
        "name": "探针驿站",
        "community": "chaoyang",
        "compound": "shuxiang",
        "latitude": 31.7,
        "longitude": 118.3,
    }
    writes: list[tuple[str, Callable[[], Awaitable[httpx.Response]]]] = [
        ("create a station", lambda: demo.post(API, json=body, headers=admin)),
        ("update a station", lambda: demo.patch(f"{API}/probe", json={"contact": "0555"}, headers=admin | {"If-Match": "*"})),
        ("add a service", lambda: demo.post(f"{API}/probe/services", json={"code": "x", "name": "义剪", "kind": "class"}, headers=admin)),
        ("update a service", lambda: demo.patch(f"{API}/probe/services/x", json={"active": False}, headers=admin | {"If-Match": "*"})),
        ("add hours rules", add_rule),
        ("delete an hours rule", lambda: demo.delete(f"{API}/shuxiang/hours/rules/{rule_id[0]}", headers=hk)),
        ("add an hours exception", add_exception),
        ("delete an hours exception", lambda: demo.delete(f"{API}/shuxiang/hours/exceptions/{exception_id[0]}", headers=hk)),
    ]  # fmt: skip
    revision = seeded
    for what, write in writes:
        r = await write()
        assert r.status_code in (200, 201, 204), (what, r.text)
        revision += 1
        assert await _revision(stations_app) == (epoch, revision), what
    # Refused writes bump nothing (rolled back with their transaction).
    assert (await demo.delete(f"{API}/shuxiang/hours/rules/{rule_id[0]}", headers=hk)).status_code == 404
    assert (await demo.post(API, json=body, headers=admin)).status_code == 409
    assert (await demo.patch(f"{API}/probe", json={"contact": "x"}, headers=hk | {"If-Match": "*"})).status_code == 403
    assert await _revision(stations_app) == (epoch, revision)
    # A booking, a ticket: not what the station reads show, no bump.
    r = await demo.post(
        f"{API}/shuxiang/tickets",
        json={"service_code": "tailoring", "name": "居民", "phone": "13900000000", "item": "裤子", "request": "改裤脚"},
        headers=hk,
    )
    assert r.status_code == 201, r.text
    assert await _revision(stations_app) == (epoch, revision)


async def test_following_the_roster_and_the_directory_bump_the_revision_when_they_change(
    demo: httpx.AsyncClient, stations_app: FastAPI
) -> None:
    epoch, revision = await _revision(stations_app)
    directory: Directory = stations_app.state.directory.directory()
    async with stations_app.state.sessionmaker() as session:
        assert await placement.follow(session, directory) == {}
        assert await stations_service.follow_roster(session, demo_roster()) == []
        await session.commit()
    assert await _revision(stations_app) == (epoch, revision)  # nothing changed, nothing bumped
    async with stations_app.state.sessionmaker() as session:
        moved = await placement.follow(session, redrawn(directory, "jingdu", community="zhenhuai", grid="zhenhuai-g1"))
        assert moved == {"jingdu": ("chaoyang", "zhenhuai")}
        await session.commit()
    assert await _revision(stations_app) == (epoch, revision + 1)
    async with stations_app.state.sessionmaker() as session:
        assert await stations_service.follow_roster(session, StaffRoster.of([])) != []  # every keeper gone
        await session.commit()
    assert await _revision(stations_app) == (epoch, revision + 2)


async def test_an_own_write_is_answered_at_once_and_reads_between_writes_touch_no_database(
    demo: httpx.AsyncClient, stations_app: FastAPI, tokens: Tokens
) -> None:
    holder: StationsSnapshot = stations_app.state.snapshot
    holder.check_interval = 3600.0  # only this process's commits make it re-check
    try:
        first = await demo.get(f"{API}/shuxiang", headers=worker(tokens))
        checks, builds = holder.checks, holder.builds
        for _ in range(5):
            assert (await demo.get(f"{API}/shuxiang", headers=worker(tokens))).content == first.content
            assert (await demo.get(f"{API}/shuxiang/hours", headers=worker(tokens))).status_code == 200
            assert (await demo.get(API, params={"q": "sx"}, headers=worker(tokens))).status_code == 200
        assert (holder.checks, holder.builds) == (checks, builds)  # no revision read, no build
        r = await demo.patch(
            f"{API}/shuxiang",
            json={"name": "书香华府驿站"},
            headers=county(tokens) | {"If-Match": first.headers["etag"]},
        )
        assert r.status_code == 200, r.text
        after = await demo.get(f"{API}/shuxiang", headers=worker(tokens))
        assert after.json()["name"] == "书香华府驿站" and after.headers["etag"] == r.headers["etag"]
        assert [
            h["code"]
            for h in (await demo.get(API, params={"q": "书香华府驿站"}, headers=worker(tokens))).json()["items"]
        ] == ["shuxiang"]
        r = await demo.post(
            f"{API}/shuxiang/hours/exceptions",
            json={"kind": "closed", "start_date": "2026-12-24", "end_date": "2026-12-24", "reason": "盘点"},
            headers=keeper(tokens),
        )
        assert r.status_code == 201, r.text
        hours = (await demo.get(f"{API}/shuxiang/hours", headers=worker(tokens))).json()
        assert r.json() in hours["exceptions"]
        assert holder.builds == builds + 2 and holder.checks == checks + 2  # one per write
    finally:
        holder.check_interval = 0.25


async def test_another_process_sees_a_write_at_its_next_revision_check(
    demo: httpx.AsyncClient, stations_app: FastAPI, second: FastAPI, tokens: Tokens
) -> None:
    other: StationsSnapshot = second.state.snapshot
    other.check_interval = 3600.0
    async with client_for(second) as elsewhere:
        before = await elsewhere.get(f"{API}/shuxiang", headers=worker(tokens))
        assert (
            before.status_code == 200
            and before.content == (await demo.get(f"{API}/shuxiang", headers=worker(tokens))).content
        )
        r = await demo.patch(
            f"{API}/shuxiang", json={"contact": "0555-1234567"}, headers=county(tokens) | {"If-Match": "*"}
        )
        assert r.status_code == 200, r.text
        # The write was this (first) app's: the second has not re-read the revision yet.
        assert (await elsewhere.get(f"{API}/shuxiang", headers=worker(tokens))).content == before.content
        other.expire()  # its interval is over
        after = await elsewhere.get(f"{API}/shuxiang", headers=worker(tokens))
        assert after.json()["contact"] == "0555-1234567" and after.headers["etag"] == r.headers["etag"]

        # With the interval as deployed (250 ms): seen within it, in real time.
        other.check_interval = 0.25
        await elsewhere.get(f"{API}/shuxiang/hours", headers=worker(tokens))  # checked just now
        r = await demo.post(
            f"{API}/shuxiang/hours/exceptions",
            json={"kind": "closed", "start_date": "2026-12-31", "end_date": "2026-12-31"},
            headers=keeper(tokens),
        )
        assert r.status_code == 201, r.text
        written = asyncio.get_running_loop().time()
        while True:
            hours = (await elsewhere.get(f"{API}/shuxiang/hours", headers=worker(tokens))).json()
            if r.json() in hours["exceptions"]:
                break
            assert asyncio.get_running_loop().time() - written < 0.25 + 0.5, "not seen within the interval"
            await asyncio.sleep(0.02)


async def test_a_database_changed_behind_the_process_is_seen_through_the_revision(
    demo: httpx.AsyncClient, stations_app: FastAPI, tokens: Tokens
) -> None:
    """A write by another program that bumps the revision (as every write here does) is read at
    the next check; one that does not stays unseen until the process is told (``expire``)."""
    holder: StationsSnapshot = stations_app.state.snapshot
    holder.check_interval = 3600.0
    try:
        await demo.get(f"{API}/shuxiang", headers=worker(tokens))
        async with stations_app.state.engine.begin() as conn:
            await conn.execute(
                text("UPDATE station SET name = '另一进程的修改', version = version + 1 WHERE code = 'shuxiang'")
            )
            await conn.execute(text("UPDATE stations_state SET revision = revision + 1"))
        assert (await demo.get(f"{API}/shuxiang", headers=worker(tokens))).json()["name"] != "另一进程的修改"
        holder.expire()
        assert (await demo.get(f"{API}/shuxiang", headers=worker(tokens))).json()["name"] == "另一进程的修改"
    finally:
        holder.check_interval = 0.25


async def test_open_now_follows_the_clock_not_the_snapshot(
    demo: httpx.AsyncClient, stations_app: FastAPI, tokens: Tokens
) -> None:
    """One snapshot answers open and closed as the clock moves (no open state is kept): 朝阳's
    stations keep office hours on weekdays, 书香华府's tailoring shop stays open over lunch."""
    holder: StationsSnapshot = stations_app.state.snapshot
    await demo.get(API, headers=worker(tokens))
    builds = holder.builds
    answers = []
    for at in (local(2026, 12, 7, 10), local(2026, 12, 7, 12, 30), local(2026, 12, 7, 15), local(2026, 12, 12, 10)):
        freeze(stations_app, at.astimezone(dt.UTC))
        r = await demo.get(API, params={"community": "chaoyang", "limit": 200}, headers=worker(tokens))
        answers.append({h["code"]: h["open_now"] for h in r.json()["items"]})
        hours = (await demo.get(f"{API}/zhongyang/hours", headers=worker(tokens))).json()["state"]
        assert hours["open_now"] == answers[-1]["zhongyang"]
    assert holder.builds == builds
    assert len(answers[0]) == 7 and all(answers[0].values()) and all(answers[2].values())
    assert [code for code, is_open in answers[1].items() if is_open] == ["shuxiang"]
    assert not any(answers[3].values())
