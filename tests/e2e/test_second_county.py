"""A second county from nothing to a completed doorstep case, through the public API alone (#19).

Real processes, no restart in the middle, nothing but HTTP through the gateway: the platform
admin creates 含山县 and imports its directory file (2 communities, 3 grids, 4 compounds); creates
its county admin, who activates, copies 和县's handbook, publishes it and creates a worker for one
grid; the worker activates, registers a resident in a new compound and takes them through a
doorstep case with its materials checklist; a station opens at the new compound and takes a
booking. 和县's users see nothing of 含山县 and 含山县's nothing of 和县 (404s, empty lists,
figures unchanged).
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from doorstep_shared.clock import utcnow

from .conftest import System, login

pytestmark = pytest.mark.e2e

COUNTY = "hanshan"
ITEM = "elderly-allowance"
DIRECTORY_CSV = """county_code,county_name,community_code,community_name,grid_code,grid_name,compound_code,compound_name,address,latitude,longitude
hanshan,含山县,huanfeng,环峰社区,huanfeng-g1,环峰第一网格,huanfeng-xincun,环峰新村,含山县环峰镇环峰新村,31.7351,118.1052
hanshan,含山县,huanfeng,环峰社区,huanfeng-g1,环峰第一网格,taoyuan-jiayuan,桃园佳苑,含山县环峰镇桃园佳苑,31.7389,118.1101
hanshan,含山县,huanfeng,环峰社区,huanfeng-g2,环峰第二网格,xiangshan-mingdi,香山名邸,含山县环峰镇香山名邸,31.7302,118.0998
hanshan,含山县,yuncao,运漕社区,yuncao-g1,运漕第一网格,yuncao-laojie,运漕老街,含山县运漕镇老街,31.5881,118.0455
"""
PASSWORD = "环峰-lantern-2026"


def check_digit(first17: str) -> str:
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    return "10X98765432"[sum(int(d) * w for d, w in zip(first17, weights, strict=True)) % 11]


def id_number(birth: dt.date, serial: str) -> str:
    """A made-up, well-formed number of 含山县 (340522); the serial's last digit odd: male."""
    first17 = f"340522{birth:%Y%m%d}{serial}"
    return first17 + check_digit(first17)


def until(
    what: Callable[[], httpx.Response], ok: Callable[[httpx.Response], bool], within: float = 10
) -> httpx.Response:
    deadline = time.monotonic() + within
    while True:
        response = what()
        if ok(response) or time.monotonic() > deadline:
            return response
        time.sleep(0.25)


OPEN: list[httpx.Client] = []


@pytest.fixture(autouse=True)
def _close_clients() -> Iterator[None]:
    yield
    while OPEN:
        OPEN.pop().close()


def api(system: System, token: str) -> httpx.Client:
    client = httpx.Client(base_url=system.url(), headers={"Authorization": f"Bearer {token}"}, timeout=60)
    OPEN.append(client)
    return client


def ok(response: httpx.Response, *statuses: int) -> Any:
    assert response.status_code in (statuses or (200,)), (
        f"{response.request.method} {response.request.url}: {response.status_code} {response.text}"
    )
    return response.json() if response.content else None


def activate(system: System, username: str, code: str) -> str:
    ok(
        httpx.post(
            f"{system.url()}/api/v1/auth/activate",
            json={"username": username, "activation_code": code, "new_password": PASSWORD},
            timeout=10,
        ),
        200,
        204,
    )
    token = httpx.post(
        f"{system.url()}/api/v1/auth/token",
        data={"grant_type": "password", "username": username, "password": PASSWORD},
        timeout=10,
    )
    return str(ok(token)["access_token"])


def figures(client: httpx.Client) -> Any:
    summary = ok(client.get("/api/v1/reports/summary"))
    return {"county": summary["county"], "communities": sorted(c["community"] for c in summary["communities"])}


def test_a_second_county_from_nothing_to_a_completed_doorstep_case(system: System) -> None:
    hexian_admin = api(system, login(system, "county.admin"))
    hexian_worker = api(system, login(system, "chaoyang.worker"))
    hexian_before = figures(hexian_admin)

    # 1. The platform admin creates the county and imports its directory.
    platform = api(system, login(system, "platform.admin"))
    ok(platform.post("/api/v1/directory/counties", json={"code": COUNTY, "name": "含山县"}), 201)
    files = {"file": ("hanshan.csv", DIRECTORY_CSV.encode("gbk"), "text/csv")}
    report = ok(platform.post("/api/v1/directory/import", files=files), 200, 201)
    assert not report.get("errors"), report
    assert platform.get("/api/v1/proxy/residents").status_code in (403, 404)  # it reads no residents

    # 2. … and the county's first admin, who activates.
    created = ok(
        platform.post(
            "/api/v1/staff",
            json={
                "username": "hanshan.admin",
                "display_name": "含山县管理员",
                "roles": ["county_admin"],
                "county": COUNTY,
            },
        ),
        201,
    )
    admin = api(system, activate(system, "hanshan.admin", created["activation_code"]))
    tree = ok(admin.get("/api/v1/directory/tree", params={"county": COUNTY}))
    communities = tree["counties"][0]["communities"]
    assert sorted(c["code"] for c in communities) == ["huanfeng", "yuncao"]
    assert sum(len(c["grids"]) for c in communities) == 3

    # 3. The admin copies 和县's handbook and publishes the item the worker will need.
    copied = ok(admin.post("/api/v1/catalog/import-from", json={"from_county": "hexian"}), 200, 201)
    assert copied, copied
    item = admin.get(f"/api/v1/catalog/items/{ITEM}")
    item_body = ok(item)
    if item_body.get("status") != "published":
        edited = admin.patch(
            f"/api/v1/catalog/items/{ITEM}",
            json={"reason": "本县发布", "status": "published", "department": "含山县民政局"},
            headers={"If-Match": item.headers["etag"]},
        )
        ok(edited)

    assert ok(admin.get(f"/api/v1/catalog/items/{ITEM}"))["department"] == "含山县民政局"
    assert ok(hexian_admin.get(f"/api/v1/catalog/items/{ITEM}"))["department"] != "含山县民政局"

    # 4. … and a worker for one grid, who activates.
    created = ok(
        admin.post(
            "/api/v1/staff",
            json={
                "username": "huanfeng.worker",
                "display_name": "环峰网格员",
                "phone": "13900001111",
                "roles": ["social_worker"],
                "community": "huanfeng",
                "grid": "huanfeng-g1",
            },
        ),
        201,
    )
    worker = api(system, activate(system, "huanfeng.worker", created["activation_code"]))

    # 5. The worker registers a resident in a new compound (the proxy follows the directory).
    born = utcnow().date().replace(year=utcnow().year - 83, month=3, day=14)
    resident_body = {
        "name": "测试居民甲",
        "id_number": id_number(born, "001"),
        "phone": "13900002222",
        "compound": "taoyuan-jiayuan",
        "building": "2",
        "unit": "1",
        "room": "301",
        "hukou_local": True,
        "living_alone": True,
    }
    registered = until(
        lambda: worker.post("/api/v1/proxy/residents", json=resident_body), lambda r: r.status_code == 201, within=10
    )
    resident = ok(registered, 201)
    assert resident["community"] == "huanfeng" and resident["grid"] == "huanfeng-g1"

    # 6. … and takes them through a doorstep case with its materials checklist.
    # The item was published seconds ago: the proxy asks the catalogue again on a miss (≤ 1 s old
    # copies are trusted), and its worker roster follows the staff record within seconds.
    case_body = {"id": str(uuid.uuid4()), "resident_id": resident["id"], "item_code": ITEM, "channel": "doorstep"}
    case = ok(until(lambda: worker.post("/api/v1/proxy/cases", json=case_body), lambda r: r.status_code == 201), 201)
    checklist = case["materials"]
    assert checklist, "the case's checklist comes from 含山县's handbook"

    def move(to: str, **extra: str) -> dict[str, Any]:
        return dict(ok(worker.post(f"/api/v1/proxy/cases/{case['id']}/transitions", json={"to": to, **extra})))

    move("scheduled")
    move("visited")
    for material in checklist:
        ok(
            worker.put(
                f"/api/v1/proxy/cases/{case['id']}/materials/{material['position']}", json={"collected": "copy_taken"}
            )
        )
    move("materials_complete")
    move("filed", department_ref="含山县民政局-2026-0001")
    move("approved")
    closed = move("closed")
    assert closed["status"] == "closed"

    # 7. A station opens at the new compound and takes a booking.
    station = {
        "code": "taoyuan-station",
        "name": "桃园佳苑党群驿站",
        "community": "huanfeng",
        "compound": "taoyuan-jiayuan",
        "latitude": 31.7389,
        "longitude": 118.1101,
    }
    ok(until(lambda: admin.post("/api/v1/stations/stations", json=station), lambda r: r.status_code == 201), 201)
    service = {"code": "haircut", "name": "爱心理发", "kind": "appointment"}
    ok(admin.post("/api/v1/stations/stations/taoyuan-station/services", json=service), 201)
    starts = utcnow() + dt.timedelta(days=2)
    session = ok(
        admin.post(
            "/api/v1/stations/stations/taoyuan-station/services/haircut/sessions",
            json={
                "title": "爱心理发",
                "starts_at": starts.isoformat(),
                "ends_at": (starts + dt.timedelta(hours=2)).isoformat(),
                "capacity": 4,
            },
        ),
        201,
    )
    booking = ok(
        worker.post(
            f"/api/v1/stations/sessions/{session['id']}/bookings",
            json={"name": "测试居民甲", "phone": "13900002222", "seats": 1},
        ),
        201,
    )
    assert booking["status"] == "confirmed"

    # 8. Sealed both ways: 404 on each other's records, nothing in each other's lists.
    for outsider in (hexian_admin, hexian_worker):
        assert outsider.get(f"/api/v1/proxy/residents/{resident['id']}").status_code == 404
        assert outsider.get(f"/api/v1/proxy/cases/{case['id']}").status_code == 404
        assert outsider.get(f"/api/v1/stations/sessions/{session['id']}/bookings").status_code == 404
        listed = ok(outsider.get("/api/v1/proxy/cases", params={"limit": 200}))["items"]
        assert all(c["id"] != case["id"] for c in listed)
    hexian_resident = ok(hexian_worker.get("/api/v1/proxy/residents", params={"limit": 1}))["items"][0]
    assert admin.get(f"/api/v1/proxy/residents/{hexian_resident['id']}").status_code == 404
    assert worker.get(f"/api/v1/proxy/residents/{hexian_resident['id']}").status_code == 404
    assert all(
        r["id"] == resident["id"] for r in ok(admin.get("/api/v1/proxy/residents", params={"limit": 200}))["items"]
    )
    assert figures(hexian_admin) == hexian_before
    theirs = figures(admin)
    assert theirs["communities"] == ["huanfeng", "yuncao"]
    assert theirs["county"]["items_accepted"] == 1 and theirs["county"]["cases_completed"] == 1
