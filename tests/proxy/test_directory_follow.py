"""The proxy follows the gateway's directory without a restart: a new compound takes residents
within seconds, and a redrawn compound takes its households, residents, open cases, planned
visits and leads along, audited, once."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from doorstep_proxy.audit import audit_log_table
from doorstep_proxy.config import ProxySettings
from doorstep_proxy.discovery.models import DiscoveryLead
from doorstep_proxy.main import create_app
from doorstep_proxy.placement import service as placement
from doorstep_proxy.workers import service as workers
from doorstep_shared.clock import utcnow
from doorstep_shared.directory import Compound
from doorstep_shared.staff_roster import StaffRecord, StaffRoster

from ..directory_support import DEMO, ExportServer, redrawn, serving, with_compound, within
from ..support import Tokens, client_for, create_database, drop_database, running
from .cases.conftest import catalogue
from .helpers import BASE, admin, create, resident_body, worker
from .survey_import.test_import import sheet_rows, to_csv, upload

NEW = Compound("xinyuan", "新苑", "chaoyang", "chaoyang-g3", address="朝阳社区新苑", buildings=3)


@pytest.fixture(scope="module")
async def followed(
    db_backend: str, tokens: Tokens, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[tuple[FastAPI, ExportServer]]:
    """A proxy following a served export, polling every 0.2 s."""
    db = await create_database("doorstep_proxy", db_backend, tmp_path_factory.mktemp("proxy-follow"))
    try:
        async with serving(DEMO) as export:
            settings = ProxySettings(
                environment="test",
                database_url=db.url,
                database_schema=db.schema,
                log_json=False,
                directory_url=export.url,
                directory_poll_seconds=0.2,
            )
            async with running(create_app(settings, key_set=tokens.key_set())) as app:
                app.state.catalog.prime(catalogue())
                yield app, export
    finally:
        await drop_database(db)


@pytest.fixture
async def client(followed: tuple[FastAPI, ExportServer]) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(followed[0]) as c:
        yield c


async def test_a_compound_added_at_the_gateway_takes_a_resident_within_five_seconds(
    followed: tuple[FastAPI, ExportServer], client: httpx.AsyncClient, tokens: Tokens
) -> None:
    app, export = followed
    assert app.state.directory.source == "url"
    ready = (await client.get("/readyz")).json()
    assert ready["dependencies"]["directory"]["state"] == "ok"
    body = {"compound": NEW.code, "building": "1", "unit": "1", "room": "101"}
    refused = await client.post(f"{BASE}/residents", json=resident_body(**body), headers=worker(tokens))
    assert refused.status_code == 422 and "body.compound" in refused.text

    export.directory = with_compound(DEMO, NEW)
    created: dict[str, object] = {}

    async def accepted() -> bool:
        resp = await client.post(f"{BASE}/residents", json=resident_body(**body), headers=worker(tokens))
        if resp.status_code == 201:
            created.update(resp.json())
        return resp.status_code == 201

    await within(5.0, accepted)
    assert (created["community"], created["grid"]) == ("chaoyang", "chaoyang-g3")

    export.directory = DEMO  # the gateway retires it again: no one new moves in

    async def refused_again() -> bool:
        again = resident_body(**body)
        resp = await client.post(f"{BASE}/residents", json=again, headers=worker(tokens))
        return resp.status_code == 422 and "body.compound" in resp.text

    await within(5.0, refused_again)
    rows = sheet_rows(2)
    rows[0][5] = NEW.code  # the survey sheet names the retired compound in its first row
    report = (await upload(client, tokens, to_csv(rows), mode="valid_rows")).json()
    assert (report["created"], report["rejected"]) == (1, 1)


async def test_a_redrawn_compound_takes_its_residents_open_cases_and_leads_along_once(
    followed: tuple[FastAPI, ExportServer], client: httpx.AsyncClient, tokens: Tokens
) -> None:
    app, export = followed
    export.directory = with_compound(DEMO, NEW)
    await within(5.0, lambda: _revision_applied(app, export))
    resident = await create(client, worker(tokens), compound="jingdu", building="2", unit="1", room="301")
    assert resident["grid"] == "chaoyang-g2"
    resp = await client.post(
        f"{BASE}/cases",
        json={"resident_id": resident["id"], "item_code": "elderly-allowance", "channel": "window"},
        headers=worker(tokens),
    )
    assert resp.status_code == 201, resp.text
    case = resp.json()
    resp = await client.post(
        f"{BASE}/demands",
        json={"resident_id": resident["id"], "channel": "window", "text": "咨询高龄补贴"},
        headers=worker(tokens),
    )
    assert resp.status_code == 201, resp.text
    demand = resp.json()
    async with app.state.sessionmaker() as session:
        now = utcnow()
        session.add(
            DiscoveryLead(
                resident_id=uuid.UUID(resident["id"]),
                item_code="elderly-allowance",
                community="chaoyang",
                grid="chaoyang-g2",
                verdict="eligible",
                first_seen_at=now,
                last_confirmed_at=now,
            )
        )
        await session.commit()
    audits = await _rehome_audits(app)

    moved = redrawn(with_compound(DEMO, NEW), "jingdu", grid="chaoyang-g7")
    export.directory = moved
    await within(5.0, lambda: _revision_applied(app, export))

    after = (await client.get(f"{BASE}/residents/{resident['id']}", headers=admin(tokens))).json()
    assert after["grid"] == "chaoyang-g7" and after["version"] == resident["version"] + 1
    case_after = (await client.get(f"{BASE}/cases/{case['id']}", headers=admin(tokens))).json()
    assert case_after["grid"] == "chaoyang-g7"
    demand_after = (await client.get(f"{BASE}/demands/{demand['id']}", headers=admin(tokens))).json()
    assert demand_after["grid"] == "chaoyang-g7"
    compound = (await client.get(f"{BASE}/compounds/jingdu", headers=admin(tokens))).json()
    assert compound["grid"] == "chaoyang-g7"
    async with app.state.sessionmaker() as session:
        lead = (await session.execute(select(DiscoveryLead.grid))).scalar_one()  # type: ignore[call-overload]
    assert lead == "chaoyang-g7"
    assert await _rehome_audits(app) == audits + 1
    async with app.state.sessionmaker() as session:
        # The same revision again (another replica, a retried poll) moves nothing.
        again = await placement.follow(session, moved)
        await session.commit()
    assert again.added == [] and again.rehomed == {}
    assert await _rehome_audits(app) == audits + 1
    same = (await client.get(f"{BASE}/residents/{resident['id']}", headers=admin(tokens))).json()
    assert same["version"] == after["version"]


async def _revision_applied(app: FastAPI, export: ExportServer) -> bool:
    applied = app.state.directory.applied
    return applied is not None and applied.revision == export.directory.revision


async def _rehome_audits(app: FastAPI) -> int:
    async with app.state.sessionmaker() as session:
        stmt = select(func.count()).where(audit_log_table.c.action == "compound.rehome")
        return int((await session.execute(stmt)).scalar_one())


async def test_a_compound_moved_to_another_community_leaves_tombstones_on_the_old_communitys_phones(
    followed: tuple[FastAPI, ExportServer], client: httpx.AsyncClient, tokens: Tokens
) -> None:
    app, export = followed
    resident = await create(client, worker(tokens), compound="anliang", building="1", unit="1", room="101")
    before = await _sync_cursor(client, worker(tokens))
    export.directory = redrawn(export.directory, "anliang", community="zhenhuai", grid="zhenhuai-g2")
    await within(5.0, lambda: _revision_applied(app, export))

    old = (await client.get(f"{BASE}/sync", params={"since": before}, headers=worker(tokens))).json()
    assert {"entity": "resident", "id": resident["id"]} in [
        {"entity": t["entity"], "id": t["id"]} for t in old["tombstones"]
    ]
    assert resident["id"] not in [r["id"] for r in old["residents"]]
    # the new community's worker of grid 6 does not carry grid 2 (scope grid), its community scope does
    theirs = (await client.get(f"{BASE}/sync", headers=worker(tokens, "zhenhuai"))).json()
    assert resident["id"] not in [r["id"] for r in theirs["residents"]]
    new = (await client.get(f"{BASE}/sync", params={"scope": "community"}, headers=worker(tokens, "zhenhuai"))).json()
    moved = next(r for r in new["residents"] if r["id"] == resident["id"])
    assert (moved["community"], moved["grid"]) == ("zhenhuai", "zhenhuai-g2")


async def _sync_cursor(client: httpx.AsyncClient, headers: dict[str, str]) -> str:
    page = (await client.get(f"{BASE}/sync", headers=headers)).json()
    while page["has_more"]:
        page = (await client.get(f"{BASE}/sync", params={"since": page["cursor"]}, headers=headers)).json()
    return str(page["cursor"])


async def _delta(client: httpx.AsyncClient, headers: dict[str, str], since: str) -> dict[str, Any]:
    got: dict[str, Any] = {"compounds": set(), "residents": set(), "cases": set(), "tombstones": set()}
    page: dict[str, Any] = {"cursor": since, "has_more": True}
    while page["has_more"]:
        page = (await client.get(f"{BASE}/sync", params={"since": page["cursor"]}, headers=headers)).json()
        got["compounds"] |= {c["code"] for c in page["compounds"]}
        got["residents"] |= {r["id"] for r in page["residents"]}
        got["cases"] |= {c["id"] for c in page["cases"]}
        got["tombstones"] |= {(t["entity"], t["id"]) for t in page["tombstones"]}
    return got


async def test_a_compound_redrawn_to_another_grid_leaves_the_old_grids_phones_but_not_what_is_assigned_there(
    followed: tuple[FastAPI, ExportServer], client: httpx.AsyncClient, tokens: Tokens
) -> None:
    app, export = followed
    # Grid 3's worker, as the gateway's staff records (which the proxy follows) name them.
    g3_record = StaffRecord(
        "chaoyang.g3.worker", "三网格社工", ("social_worker",), "hexian", "chaoyang", "chaoyang-g3", (), True
    )
    async with app.state.sessionmaker() as session:
        await workers.follow_roster(session, StaffRoster.of([g3_record]))
        await session.commit()
    g3 = tokens.headers("social_worker", community="chaoyang", grid="chaoyang-g3", subject="chaoyang.g3.worker")
    g4 = tokens.headers("social_worker", community="chaoyang", grid="chaoyang-g4", subject="chaoyang.g4.worker")
    kept = await create(client, admin(tokens), compound="shuxiang", building="1", unit="1", room="101")
    left = await create(client, admin(tokens), compound="shuxiang", building="1", unit="1", room="102")
    made = []
    for r in (kept, left):
        body = {"resident_id": r["id"], "item_code": "elderly-allowance", "channel": "window"}
        resp = await client.post(f"{BASE}/cases", json=body, headers=admin(tokens))
        assert resp.status_code == 201, resp.text
        made.append(resp.json())
    etag = (await client.get(f"{BASE}/cases/{made[0]['id']}", headers=admin(tokens))).headers["etag"]
    resp = await client.post(
        f"{BASE}/cases/{made[0]['id']}/assignment",
        json={"assigned_to": "chaoyang.g3.worker", "reason": "本网格社工上门"},
        headers={**admin(tokens), "If-Match": etag},
    )
    assert resp.status_code == 200, resp.text
    c3, c4 = await _sync_cursor(client, g3), await _sync_cursor(client, g4)

    export.directory = redrawn(export.directory, "shuxiang", grid="chaoyang-g4")
    await within(5.0, lambda: _revision_applied(app, export))

    old = await _delta(client, g3, c3)
    assert {
        ("resident", left["id"]),
        ("household", left["household_id"]),
        ("case", made[1]["id"]),
    } <= old["tombstones"]
    # the case assigned to the grid-3 worker, its resident and household stay on that phone
    assert (
        not {
            ("case", made[0]["id"]),
            ("resident", kept["id"]),
            ("household", kept["household_id"]),
        }
        & old["tombstones"]
    )
    new = await _delta(client, g4, c4)
    assert "shuxiang" in new["compounds"]
    assert {kept["id"], left["id"]} <= new["residents"] and {c["id"] for c in made} <= new["cases"]
    assert not new["tombstones"]
