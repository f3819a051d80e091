"""What a phone screen needs (#22 part 4): leads with the resident's masked phone, age, gender
and address and a ``resident`` filter; ``/my/day`` names as ``/residents/{id}`` shows them;
``?fields=`` on the lists the app scrolls."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import event

from doorstep_proxy.ledger.faces import resident_face, sees_in_full
from doorstep_shared.auth.tokens import Principal
from doorstep_shared.clock import local_today
from doorstep_shared.pii import PiiCipher

from ..support import Tokens
from .discovery.catalog import seed_snapshot
from .discovery.helpers import prime
from .helpers import BASE, app_of, auditor, create, id_number, with_compounds, worker

pytestmark = pytest.mark.dates

CARE = "severe-disability-care-subsidy"
FACE = ("name", "phone_masked", "age", "gender")


def _birthday_tomorrow(years: int) -> dt.date:
    tomorrow = local_today() + dt.timedelta(days=1)
    if (tomorrow.month, tomorrow.day) == (2, 29):
        tomorrow += dt.timedelta(days=1)
    return tomorrow.replace(year=tomorrow.year - years)


def _as_resident_shows(resident: dict[str, Any]) -> dict[str, Any]:
    return {
        "resident_name": resident["name"],
        "phone_masked": resident["phone_masked"],
        "age": resident["age"],
        "gender": resident["gender"],
        "address": {k: resident[k] for k in ("compound", "building", "unit", "room")},
    }


def _lead_face(lead: dict[str, Any]) -> dict[str, Any]:
    return {k: lead[k] for k in ("resident_name", "phone_masked", "age", "gender", "address")}


async def test_leads_show_the_resident_as_their_record_does_and_filter_by_resident(
    proxy: httpx.AsyncClient, tokens: Tokens, monkeypatch: pytest.MonkeyPatch
) -> None:
    await with_compounds(proxy)
    prime(proxy, seed_snapshot())
    h = worker(tokens)
    birth = _birthday_tomorrow(57)
    story = await create(proxy, h, id_number=id_number(birth, "female"), phone="13912348765")
    other = await create(proxy, h, name="欧阳明华", room="1101")

    resp = await proxy.get(f"{BASE}/leads", params={"item": CARE, "resident": story["id"]}, headers=h)
    assert resp.status_code == 200, resp.text
    (lead,) = resp.json()["items"]
    assert lead["resident_id"] == story["id"]
    assert lead["phone_masked"] == "139****8765" and "13912348765" not in resp.text
    assert lead["gender"] == "female" and lead["age"] == 56
    for headers in (h, auditor(tokens)):  # masking equals /residents/{id}'s for the same caller
        shown = (await proxy.get(f"{BASE}/residents/{story['id']}", headers=headers)).json()
        again = (await proxy.get(f"{BASE}/leads/{lead['id']}", headers=headers)).json()
        assert _lead_face(again) == _as_resident_shows(shown)
    assert lead["address"] == {"compound": "binjiang", "building": "6", "unit": "2", "room": "502"}

    theirs = await proxy.get(f"{BASE}/leads", params={"item": CARE, "resident": other["id"]}, headers=h)
    assert [x["resident_id"] for x in theirs.json()["items"]] == [other["id"]]
    nobody = await proxy.get(f"{BASE}/leads", params={"resident": str(uuid.uuid4())}, headers=h)
    assert nobody.status_code == 200 and nobody.json()["items"] == []
    bad = await proxy.get(f"{BASE}/leads", params={"resident": "not-a-uuid"}, headers=h)
    assert bad.status_code == 422
    assert [e["field"] for e in bad.json()["errors"]] == ["query.resident"]

    # tomorrow (the clock moved): the birthday has come, on the lead and on the record alike
    moved = local_today() + dt.timedelta(days=1)
    modules = ("discovery.service", "discovery.reads", "ledger.service", "ledger.reads")
    for module in modules:
        monkeypatch.setattr(f"doorstep_proxy.{module}.local_today", lambda now=None: moved)
    older = await proxy.get(f"{BASE}/leads/{lead['id']}", headers=h)
    shown = (await proxy.get(f"{BASE}/residents/{story['id']}", headers=h)).json()
    assert older.json()["age"] == shown["age"] == 57


def test_a_caller_who_may_not_read_the_resident_sees_them_masked() -> None:
    cipher = PiiCipher({"k": b"k" * 32}, "k", b"h" * 32)
    row = type(
        "Row",
        (),
        {
            "name": "欧阳明华",
            "community": "chaoyang",
            "compound_code": "binjiang",
            "building": "6",
            "unit": "2",
            "room": "502",
            "gender": "male",
            "birth_date": dt.date(1950, 3, 1),
            "phone_enc": cipher.encrypt("13812345678", context="resident.phone"),
        },
    )()
    reader = Principal("w", "user", "w", community="chaoyang", permissions=frozenset({"residents:read"}))
    leads_only = Principal("l", "user", "l", community="chaoyang", permissions=frozenset({"leads:read"}))
    elsewhere = Principal("z", "user", "z", community="zhenhuai", permissions=frozenset({"residents:read"}))
    client = Principal("c", "client", "c", permissions=frozenset({"residents:read"}))
    assert sees_in_full(reader, "chaoyang")
    assert not any(sees_in_full(p, "chaoyang") for p in (leads_only, elsewhere, client, None))
    full = resident_face(reader, cipher, row, dt.date(2026, 3, 1))
    assert (full.name, full.address.room, full.phone_masked, full.age) == ("欧阳明华", "502", "138****5678", 76)
    masked = resident_face(leads_only, cipher, row, dt.date(2026, 2, 28))
    assert (masked.name, masked.address.unit, masked.address.room, masked.age) == ("欧**华", "*", "***", 75)


async def test_my_day_names_residents_as_their_record_does_for_the_same_caller(
    proxy: httpx.AsyncClient, tokens: Tokens
) -> None:
    await with_compounds(proxy)
    prime(proxy, seed_snapshot())
    h = worker(tokens)
    resident = await create(proxy, h, name="欧阳明华")
    case = await proxy.post(
        f"{BASE}/cases", json={"resident_id": resident["id"], "item_code": CARE, "channel": "doorstep"}, headers=h
    )
    assert case.status_code == 201, case.text
    visit = await proxy.post(
        f"{BASE}/visits", json={"case_ids": [case.json()["id"]], "planned_date": local_today().isoformat()}, headers=h
    )
    assert visit.status_code == 201, visit.text
    for headers, query in ((h, {}), (auditor(tokens), {"worker": "chaoyang.worker"})):
        day = await proxy.get(f"{BASE}/my/day", params=query, headers=headers)
        assert day.status_code == 200, day.text
        (shown,) = [v["resident"] for v in day.json()["visits"]]
        record = (await proxy.get(f"{BASE}/residents/{resident['id']}", headers=headers)).json()
        assert shown["name"] == record["name"] == "欧阳明华"
        assert shown["name_masked"] == "欧**华" and shown["phone_masked"] == record["phone_masked"]


async def test_fields_trims_the_items_of_the_lists_the_phone_scrolls(proxy: httpx.AsyncClient, tokens: Tokens) -> None:
    await with_compounds(proxy)
    prime(proxy, seed_snapshot())
    h = worker(tokens)
    resident = await create(proxy, h)
    case = await proxy.post(
        f"{BASE}/cases", json={"resident_id": resident["id"], "item_code": CARE, "channel": "window"}, headers=h
    )
    assert case.status_code == 201, case.text
    lists = {
        "/residents": ("name,phone_masked,age", {"id", "name", "phone_masked", "age"}),
        "/leads": ("resident_name, age,address", {"id", "resident_name", "age", "address"}),
        "/cases": ("status,resident", {"id", "status", "resident"}),
    }
    for path, (fields, keys) in lists.items():
        full = await proxy.get(f"{BASE}{path}", headers=h)
        resp = await proxy.get(f"{BASE}{path}", params={"fields": fields}, headers=h)
        assert resp.status_code == 200, (path, resp.text)
        items = resp.json()["items"]
        assert items and all(set(item) == keys for item in items), (path, items)
        assert items == [{k: item[k] for k in keys} for item in full.json()["items"]]
        assert "next_cursor" in resp.json()
        bad = await proxy.get(f"{BASE}{path}", params={"fields": "id,nope"}, headers=h)
        assert bad.status_code == 422, (path, bad.text)
        assert bad.json()["code"] == "unknown_field" and bad.json()["unknown"] == ["nope"]
        assert [e["field"] for e in bad.json()["errors"]] == ["query.fields"]
    only_id = await proxy.get(f"{BASE}/residents", params={"fields": "id"}, headers=h)
    assert only_id.json()["items"] == [{"id": resident["id"]}]
    assert (
        "13812345678" not in (await proxy.get(f"{BASE}/residents", params={"fields": "phone_masked"}, headers=h)).text
    )


def test_the_fields_parameter_lists_the_item_fields_in_the_openapi_document(proxy_app: Any) -> None:
    doc = proxy_app.openapi()
    (param,) = [p for p in doc["paths"]["/api/v1/proxy/leads"]["get"]["parameters"] if p["name"] == "fields"]
    assert "`phone_masked`" in param["description"] and "`waitlist_position`" not in param["description"]
    # the trimmed page is documented too: a client checking answers against the document agrees
    for path in ("/api/v1/proxy/leads", "/api/v1/proxy/residents", "/api/v1/proxy/cases"):
        ok = doc["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
        trimmed = ok["anyOf"][1]["$ref"].rsplit("/", 1)[1]
        item = doc["components"]["schemas"][trimmed]["properties"]["items"]["items"]["$ref"].rsplit("/", 1)[1]
        assert item.endswith("ReadFields") and doc["components"]["schemas"][item]["required"] == ["id"], path


async def test_a_page_of_leads_costs_the_same_queries_for_one_resident_or_many(
    proxy: httpx.AsyncClient, tokens: Tokens
) -> None:
    await with_compounds(proxy)
    prime(proxy, seed_snapshot())
    h = worker(tokens)
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(str(args[2]))

    engine = app_of(proxy).state.engine.sync_engine

    async def queries(n: int) -> int:
        await proxy.get(f"{BASE}/leads", params={"item": CARE}, headers=h)  # evaluated, warm
        statements.clear()
        event.listen(engine, "before_cursor_execute", count)
        try:
            resp = await proxy.get(f"{BASE}/leads", params={"item": CARE}, headers=h)
        finally:
            event.remove(engine, "before_cursor_execute", count)
        assert len(resp.json()["items"]) == n
        return len(statements)

    await create(proxy, h, room="101")
    one = await queries(1)
    for room in ("102", "103", "104"):
        await create(proxy, h, room=room)
    assert await queries(4) == one
