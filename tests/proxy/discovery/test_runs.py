"""Runs and the incremental path: concurrent starts, resume after a crash, fact changes through
the ledger, rule changes from the catalogue, declined leads, coming-due dates."""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import sqlite3
from typing import Any

import httpx
import pytest

from doorstep_proxy.discovery import repository as repo
from doorstep_proxy.discovery import runs
from doorstep_proxy.discovery import service as svc
from doorstep_proxy.discovery.compile_sql import birth_bound
from doorstep_proxy.discovery.rulebook import RuleBooks
from doorstep_shared.clock import local_today

from ...support import Tokens
from ..helpers import admin, create, with_compounds, worker
from .catalog import snapshot_with
from .helpers import BASE, add_resident, app_of, county_admin, prime, run, wait_runs

pytestmark = pytest.mark.dates

ELDERLY = {"and": [{">=": [{"var": "age"}, 80]}, {"var": "hukou_local"}]}
CARE = {"and": [{"var": "hukou_local"}, {"<=": [{"var": "disability_grade"}, 2]}]}
ALONE = {"var": "living_alone"}


async def _leads(client: httpx.AsyncClient, tokens: Tokens, **params: Any) -> list[dict[str, Any]]:
    resp = await client.get(f"{BASE}/leads", params={"verdict": "all", **params}, headers=admin(tokens))
    assert resp.status_code == 200, resp.text
    items: list[dict[str, Any]] = resp.json()["items"]
    return items


async def test_concurrent_starts_make_one_run_and_leads_are_never_duplicated(
    proxy: httpx.AsyncClient, tokens: Tokens
) -> None:
    await with_compounds(proxy)
    app = prime(proxy, snapshot_with({"elderly": ELDERLY, "alone": ALONE}))
    for i in range(5):
        await add_resident(app, birth=dt.date(1930 + i, 1, 1), hukou_local=True, living_alone=True)
    starts = await asyncio.gather(
        *(
            proxy.post(f"{BASE}/discovery/runs", json={"scope": "county"}, headers=county_admin(tokens))
            for _ in range(4)
        )
    )
    assert {r.status_code for r in starts} <= {200, 202}
    started = {r.json()["id"] for r in starts if r.status_code == 202}
    assert {r.json()["id"] for r in starts if r.status_code == 200} <= started
    await wait_runs(app)
    # whatever the interleaving, runs never overlapped: the lease admits one at a time
    listed = (await proxy.get(f"{BASE}/discovery/runs", headers=county_admin(tokens))).json()["items"]
    ordered = sorted(listed, key=lambda r: r["id"])
    assert {r["id"] for r in ordered} == started and all(r["status"] == "completed" for r in ordered)
    for before, after in itertools.pairwise(ordered):
        assert after["started_at"] >= before["finished_at"]
    other = await proxy.post(f"{BASE}/discovery/runs", json={"scope": "chaoyang"}, headers=admin(tokens))
    assert other.status_code == 202  # the lease is free again
    await wait_runs(app)
    await run(proxy, county_admin(tokens))
    leads = await _leads(proxy, tokens)
    assert len(leads) == 10 == len({(x["resident_id"], x["item_code"]) for x in leads})


async def test_a_second_scope_is_refused_while_a_run_holds_the_lease(proxy: httpx.AsyncClient, tokens: Tokens) -> None:
    await with_compounds(proxy)
    app = prime(proxy, snapshot_with({"elderly": ELDERLY}))
    async with app.state.sessionmaker() as session:
        await runs.start_run(session, app.state.catalog._snapshot, scope="county", actor="t", owner="someone")
        await session.commit()
    refused = await proxy.post(f"{BASE}/discovery/runs", json={"scope": "chaoyang"}, headers=admin(tokens))
    assert refused.status_code == 409 and refused.json()["code"] == "discovery_running"
    joined = await proxy.post(f"{BASE}/discovery/runs", json={"scope": "county"}, headers=county_admin(tokens))
    assert joined.status_code == 200 and joined.json()["joined"] is True


async def test_a_crashed_run_resumes_after_its_checkpoint(proxy: httpx.AsyncClient, tokens: Tokens) -> None:
    await with_compounds(proxy)
    snapshot = snapshot_with({"a-elderly": ELDERLY, "b-alone": ALONE, "c-care": CARE})
    app = prime(proxy, snapshot)
    await add_resident(
        app,
        birth=dt.date(1930, 1, 1),
        hukou_local=True,
        living_alone=True,
        disability_grade=1,
        disability_type="physical",
    )
    async with app.state.sessionmaker() as session:
        started, _ = await runs.start_run(session, snapshot, scope="county", actor="t", owner="crashy")
        run_id = started.id or 0
        await session.commit()
    # the worker does one item, then "dies" (stops without finishing)
    await runs.execute(app.state.sessionmaker, snapshot, run_id, "crashy", stop_after=1)
    page = await proxy.get(f"{BASE}/discovery/runs/{run_id}", headers=county_admin(tokens))
    assert (page.json()["status"], page.json()["items_done"]) == ("running", 1)
    assert len(await _leads(proxy, tokens)) == 1
    # its lease expires; the background pass takes it over and finishes the rest
    async with app.state.sessionmaker() as session:
        from doorstep_proxy.discovery import repository as repo

        await repo.set_lock(session, runs.LOCK_NAME, run_id, "crashy", dt.datetime(2001, 1, 1, tzinfo=dt.UTC))
        await session.commit()
    await runs.tick(app)
    page = await proxy.get(f"{BASE}/discovery/runs/{run_id}", headers=county_admin(tokens))
    body = page.json()
    assert (body["status"], body["items_done"], body["resumed"]) == ("completed", 3, 1)
    assert sorted(x["item_code"] for x in await _leads(proxy, tokens)) == ["a-elderly", "b-alone", "c-care"]


async def test_fact_changes_through_the_ledger_update_leads_without_a_run(
    proxy: httpx.AsyncClient, tokens: Tokens
) -> None:
    await with_compounds(proxy)
    prime(proxy, snapshot_with({"care": CARE, "alone": ALONE}))
    story = await create(proxy, worker(tokens), living_alone=False)
    await run(proxy, county_admin(tokens))
    assert [x["item_code"] for x in await _leads(proxy, tokens)] == ["care"]
    etag = (await proxy.get(f"{BASE}/residents/{story['id']}", headers=worker(tokens))).headers["etag"]
    resp = await proxy.patch(
        f"{BASE}/residents/{story['id']}",
        json={"disability_grade": 3, "living_alone": True},
        headers={**worker(tokens), "If-Match": etag},
    )
    assert resp.status_code == 200, resp.text
    leads = await _leads(proxy, tokens)  # the read drains the change queue first
    assert [x["item_code"] for x in leads] == ["alone"]
    obsolete = await _leads(proxy, tokens, status="obsolete")
    assert [x["item_code"] for x in obsolete] == ["care"]


async def test_a_lead_read_with_nothing_queued_does_not_wait_for_the_database_writer(
    proxy: httpx.AsyncClient, tokens: Tokens
) -> None:
    """The read-your-writes drain runs only when residents are queued, in a transaction of its
    own: a lead list never takes SQLite's write lock for its whole request."""
    app = app_of(proxy)
    url = app.state.settings.database_url
    if not url.startswith("sqlite"):
        pytest.skip("the database-wide write lock is SQLite's")
    await with_compounds(proxy)
    prime(proxy, snapshot_with({"care": CARE, "alone": ALONE}))
    await create(proxy, worker(tokens), living_alone=False)
    await run(proxy, county_admin(tokens))
    assert [x["item_code"] for x in await _leads(proxy, tokens)] == ["care"]  # the queue drained
    writer = sqlite3.connect(url.split("///", 1)[1], isolation_level=None)
    try:
        writer.execute("BEGIN IMMEDIATE")  # another writer holds the database
        async with asyncio.timeout(10):  # the busy timeout is 30 s: a lead list waiting for it fails here
            assert [x["item_code"] for x in await _leads(proxy, tokens)] == ["care"]
            survey = await proxy.get(f"{BASE}/leads/needs-survey", headers=admin(tokens))
            assert survey.status_code == 200, survey.text
    finally:
        writer.execute("ROLLBACK")
        writer.close()


async def test_a_lead_read_drains_a_few_queued_residents_and_the_pass_the_rest(
    proxy: httpx.AsyncClient, tokens: Tokens
) -> None:
    """A bulk change (an import) is the background pass's to work through in short
    transactions; a lead read re-evaluates at most ``READ_DRAIN`` queued residents first."""
    await with_compounds(proxy)
    app = prime(proxy, snapshot_with({"elderly": ELDERLY}))
    await runs.tick(app)  # the first pass: a county run (nobody yet)
    await wait_runs(app)
    queued = [await add_resident(app, birth=dt.date(1940, 1, 1), hukou_local=True) for _ in range(runs.READ_DRAIN + 7)]
    async with app.state.sessionmaker() as session:
        await runs.queue_changed_residents(session, queued)
        await session.commit()

    async def still_queued() -> int:
        async with app.state.sessionmaker() as session:
            return len(await repo.pending(session, 1000))

    await _leads(proxy, tokens)
    assert await still_queued() == 7
    await runs.tick(app)
    assert await still_queued() == 0
    assert len(await _leads(proxy, tokens)) == len(queued)


async def test_declined_leads_stay_declined_until_the_facts_change(proxy: httpx.AsyncClient, tokens: Tokens) -> None:
    await with_compounds(proxy)
    prime(proxy, snapshot_with({"care": CARE}))
    story = await create(proxy, worker(tokens), disability_grade=2)
    await run(proxy, county_admin(tokens))
    (lead,) = await _leads(proxy, tokens)
    bad = await proxy.post(f"{BASE}/leads/{lead['id']}/declined", json={}, headers=worker(tokens))
    assert bad.status_code == 422
    stale = await proxy.post(
        f"{BASE}/leads/{lead['id']}/declined",
        json={"reason": "暂不需要"},
        headers={**worker(tokens), "If-Match": '"nope"'},
    )
    assert stale.status_code == 412
    resp = await proxy.post(
        f"{BASE}/leads/{lead['id']}/declined", json={"reason": "本人暂不需要"}, headers=worker(tokens)
    )
    assert resp.status_code == 200 and resp.json()["status"] == "declined"
    await run(proxy, county_admin(tokens))
    assert await _leads(proxy, tokens) == []  # a run does not bring it back
    again = await proxy.post(f"{BASE}/leads/{lead['id']}/contacted", json={}, headers=worker(tokens))
    assert again.status_code == 409
    etag = (await proxy.get(f"{BASE}/residents/{story['id']}", headers=worker(tokens))).headers["etag"]
    await proxy.patch(
        f"{BASE}/residents/{story['id']}", json={"disability_grade": 1}, headers={**worker(tokens), "If-Match": etag}
    )
    (back,) = await _leads(proxy, tokens)  # the facts it was declined on changed
    assert back["id"] == lead["id"] and back["status"] == "new"


async def test_a_rule_change_reruns_only_the_changed_items(proxy: httpx.AsyncClient, tokens: Tokens) -> None:
    await with_compounds(proxy)
    app = prime(proxy, snapshot_with({"elderly": ELDERLY, "alone": ALONE}, revision=1))
    await add_resident(app, birth=dt.date(1940, 1, 1), hukou_local=True, living_alone=True)
    await runs.tick(app)  # the first automatic pass: a county run
    await wait_runs(app)
    assert len(await _leads(proxy, tokens)) == 2
    app.state.catalog.prime(snapshot_with({"elderly": {">=": [{"var": "age"}, 95]}, "alone": ALONE}, revision=2))
    await runs.tick(app)
    page = (await proxy.get(f"{BASE}/discovery/runs", headers=county_admin(tokens))).json()["items"]
    assert page[0]["kind"] == "rules" and page[0]["items_total"] == 1 and page[0]["status"] == "completed"
    assert [x["item_code"] for x in await _leads(proxy, tokens)] == ["alone"]
    await runs.tick(app)  # nothing changed: nothing runs
    assert len((await proxy.get(f"{BASE}/discovery/runs", headers=county_admin(tokens))).json()["items"]) == 2


@pytest.mark.parametrize(
    ("today", "birth", "due"),
    [
        (dt.date(2024, 12, 20), dt.date(1945, 1, 5), dt.date(2025, 1, 5)),  # across the year end
        (dt.date(2025, 1, 25), dt.date(1945, 2, 3), dt.date(2025, 2, 3)),  # across a month end
        (dt.date(2025, 2, 20), dt.date(1944, 2, 29), dt.date(2025, 3, 1)),  # 29 Feb → 1 March
        (dt.date(2024, 2, 20), dt.date(1944, 2, 29), dt.date(2024, 2, 29)),  # leap year: on the day
    ],
)
async def test_coming_due_dates_across_month_and_year_ends(
    proxy: httpx.AsyncClient, tokens: Tokens, today: dt.date, birth: dt.date, due: dt.date
) -> None:
    await with_compounds(proxy)
    age = due.year - birth.year
    rule = {"and": [{">=": [{"var": "age"}, age]}, {"var": "hukou_local"}]}
    app = prime(proxy, snapshot_with({"elderly": rule}))
    rid = await add_resident(app, birth=birth, hukou_local=True)
    await add_resident(app, birth=birth_bound(today, age) or birth, hukou_local=True)  # already qualifies
    principal = tokens.principal("social_worker", community="chaoyang", subject="chaoyang.worker")
    async with app.state.sessionmaker() as session:
        found = await svc.coming_due(
            session, principal, app.state.catalog, days=20, grid=None, worker=None, item_code=None, today=today
        )
        late = await svc.coming_due(
            session,
            principal,
            app.state.catalog,
            days=(due - today).days - 1,
            grid=None,
            worker=None,
            item_code=None,
            today=today,
        )
    assert [(c.resident_id, c.due_on, c.turns) for c in found] == [(rid, due, age)]
    assert late == []


async def test_coming_due_endpoint_lists_residents_turning_80(proxy: httpx.AsyncClient, tokens: Tokens) -> None:
    await with_compounds(proxy)
    app = prime(proxy, snapshot_with({"elderly": ELDERLY}))
    from doorstep_shared.clock import local_today

    today = local_today()
    soon = (birth_bound(today, 80) or today) + dt.timedelta(days=10)
    rid = await add_resident(app, birth=soon, hukou_local=True)
    resp = await proxy.get(f"{BASE}/leads/coming-due", params={"days": 30}, headers=worker(tokens))
    assert resp.status_code == 200, resp.text
    assert [(x["resident_id"], x["turns"]) for x in resp.json()] == [(str(rid), 80)]
    assert (await proxy.get(f"{BASE}/leads/coming-due", params={"days": 0}, headers=worker(tokens))).status_code == 422


async def test_incremental_reevaluation_of_one_resident_matches_a_run(proxy: httpx.AsyncClient, tokens: Tokens) -> None:
    await with_compounds(proxy)
    from .catalog import seed_snapshot

    app = prime(proxy, seed_snapshot())
    ids = [
        await add_resident(
            app,
            birth=dt.date(1940 + 7 * i, 3, 1),
            hukou_local=i % 3 != 0,
            dibao=i % 2 == 0,
            employment_status="unemployed",
        )
        for i in range(6)
    ]
    await run(proxy, county_admin(tokens))
    by_run = {
        (x["resident_id"], x["item_code"], x["verdict"], x["missing_facts"] == [])
        for x in await _leads(proxy, tokens, limit=200)
    }
    from sqlalchemy import text

    async with app.state.sessionmaker() as session:
        fingerprints = dict((await session.execute(text("SELECT id, fingerprint FROM discovery_lead"))).all())
        await session.execute(text("DELETE FROM discovery_lead"))
        book = RuleBooks(app.state.catalog._snapshot, None)
        for rid in ids:
            await runs.reevaluate_resident(session, book, rid)
        await session.commit()
    by_one = {
        (x["resident_id"], x["item_code"], x["verdict"], x["missing_facts"] == [])
        for x in await _leads(proxy, tokens, limit=200)
    }
    assert by_one == by_run and by_run
    async with app.state.sessionmaker() as session:
        again = sorted((await session.execute(text("SELECT fingerprint FROM discovery_lead"))).scalars().all())
    assert again == sorted(fingerprints.values())
    _ = app_of(proxy)


async def test_a_rerun_writes_only_what_changed_and_unchanged_leads_show_the_run_as_confirmation(
    proxy: httpx.AsyncClient, tokens: Tokens
) -> None:
    from sqlalchemy import select, update

    from doorstep_proxy.discovery.repository import LEAD, RESIDENT

    await with_compounds(proxy)
    app = prime(proxy, snapshot_with({"elderly": ELDERLY, "alone": ALONE}))
    steady = await add_resident(app, birth=dt.date(1935, 1, 1), hukou_local=True, living_alone=False)
    moving = await add_resident(app, birth=dt.date(1936, 1, 1), living_alone=True)  # hukou unknown
    first = await run(proxy, county_admin(tokens))
    assert (first["eligible"], first["unknown"]) == (2, 1)
    query = select(LEAD.c.resident_id, LEAD.c.item_code, LEAD.c.status, LEAD.c.version, LEAD.c.last_confirmed_at)
    async with app.state.sessionmaker() as session:
        before = {(r[0], r[1]): tuple(r[2:]) for r in (await session.execute(query)).all()}
        # facts changed behind the ledger's back (no change hook): only a run can notice
        await session.execute(
            update(RESIDENT).where(RESIDENT.c.id == moving).values(hukou_local=True, living_alone=False)
        )
        await session.commit()
    second = await run(proxy, county_admin(tokens))
    assert (second["eligible"], second["unknown"]) == (2, 0)
    async with app.state.sessionmaker() as session:
        after = {(r[0], r[1]): tuple(r[2:]) for r in (await session.execute(query)).all()}
    assert after[(steady, "elderly")] == before[(steady, "elderly")]  # unchanged: not written at all
    assert after[(moving, "elderly")][:2] == ("new", 2)  # unknown → eligible
    assert after[(moving, "alone")][:2] == ("obsolete", 2)  # no longer lives alone
    leads = {(x["resident_id"], x["item_code"]): x for x in await _leads(proxy, tokens)}
    assert leads[(str(moving), "elderly")]["verdict"] == "eligible"
    # the unchanged lead was confirmed by the second run: its row marks that, not the lead
    finished = dt.datetime.fromisoformat(second["finished_at"])
    assert dt.datetime.fromisoformat(leads[(str(steady), "elderly")]["last_confirmed_at"]) == finished


async def test_a_run_that_races_an_incremental_lead_evaluates_the_item_again(
    proxy: httpx.AsyncClient, tokens: Tokens, caplog: pytest.LogCaptureFixture
) -> None:
    """The run inserts leads without ON CONFLICT. A lead the incremental path writes while the
    run's statement is under way makes that statement fail with a unique violation; the item is
    evaluated again in a fresh savepoint and the run completes with one lead per resident."""
    await with_compounds(proxy)
    snapshot = snapshot_with({"elderly": ELDERLY})
    app = prime(proxy, snapshot)
    if app.state.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer: a run and the incremental path never overlap")
    rid = await add_resident(app, birth=dt.date(1930, 1, 1), hukou_local=True)
    await add_resident(app, birth=dt.date(1931, 1, 1), hukou_local=True)
    book = RuleBooks(snapshot, None)
    async with app.state.sessionmaker() as other:
        # the incremental path's upsert, not yet committed: the run's INSERT waits on it
        await runs.reevaluate_resident(other, book, rid, local_today())
        async with app.state.sessionmaker() as session:
            started, _ = await runs.start_run(session, snapshot, scope="county", actor="t", owner="racer")
            run_id = started.id or 0
            await session.commit()
        execution = asyncio.create_task(runs.execute(app.state.sessionmaker, snapshot, run_id, "racer"))
        await asyncio.sleep(0.5)
        assert not execution.done()
        with caplog.at_level("INFO", logger="doorstep.proxy.discovery"):
            await other.commit()
            done = await asyncio.wait_for(execution, 10)
    assert done is not None and done.status == "completed"
    assert any("raced an incremental update" in r.getMessage() for r in caplog.records)
    leads = await _leads(proxy, tokens)
    assert sorted(x["item_code"] for x in leads) == ["elderly", "elderly"]
    assert len({x["resident_id"] for x in leads}) == 2


async def test_a_run_that_inserted_many_leads_refreshes_the_planner_statistics_and_a_rerun_does_not(
    proxy: httpx.AsyncClient, tokens: Tokens, monkeypatch: pytest.MonkeyPatch
) -> None:
    from doorstep_proxy.discovery import lead_writes as repo

    await with_compounds(proxy)
    app = prime(proxy, snapshot_with({"elderly": ELDERLY}))
    await add_resident(app, birth=dt.date(1930, 1, 1), hukou_local=True)
    calls: list[int] = []
    analyze = repo.refresh_lead_statistics

    async def counted(session: Any) -> None:
        calls.append(1)
        await analyze(session)

    monkeypatch.setattr(runs, "ANALYZE_AFTER", 1)
    monkeypatch.setattr(repo, "refresh_lead_statistics", counted)
    await run(proxy, county_admin(tokens))
    assert calls == [1]  # the first fill inserted a lead
    await run(proxy, county_admin(tokens))
    assert calls == [1]  # nothing new: no ANALYZE


async def test_a_first_fill_of_a_small_county_refreshes_the_planner_statistics_too(
    proxy: httpx.AsyncClient, tokens: Tokens, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Below ANALYZE_AFTER, a run that filled most of the lead table still refreshes the statistics
    (without them SQLite sorted a community's every lead for each page of the lead list)."""
    from doorstep_proxy.discovery import lead_writes as repo

    await with_compounds(proxy)
    app = prime(proxy, snapshot_with({"elderly": ELDERLY}))
    await add_resident(app, birth=dt.date(1930, 1, 1), hukou_local=True)
    calls: list[int] = []

    async def counted(session: Any) -> None:
        calls.append(1)

    monkeypatch.setattr(runs, "ANALYZE_SMALL", 1)
    monkeypatch.setattr(repo, "refresh_lead_statistics", counted)
    await run(proxy, county_admin(tokens))
    assert calls == [1]  # one lead inserted, all the table holds
    await run(proxy, county_admin(tokens))
    assert calls == [1]
