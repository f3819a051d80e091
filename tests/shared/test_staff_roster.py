"""A service's copy of the gateway's staff roster: asked with its own token and If-None-Match,
applied once per revision, kept (degraded) when the gateway fails, retried when applying fails."""

from __future__ import annotations

import httpx
from prometheus_client import CollectorRegistry

from doorstep_shared.auth.service_keys import ServiceCredentials, ServiceKey
from doorstep_shared.http.health import Dependencies
from doorstep_shared.staff_roster import (
    EXPORT_PATH,
    RosterCopy,
    StaffRecord,
    StaffRoster,
    demo_roster,
    roster_url,
)

WORKER = StaffRecord("chaoyang.li", "李华", ("social_worker",), "hexian", "chaoyang", "chaoyang-g2")


async def test_each_revision_is_applied_once_and_a_failing_gateway_keeps_the_last_copy() -> None:
    served = {"roster": StaffRoster.of([WORKER]), "status": 200}
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        roster = served["roster"]
        assert isinstance(roster, StaffRoster)
        etag = f'"{roster.revision}"'
        if served["status"] != 200:
            return httpx.Response(int(str(served["status"])))
        if request.headers.get("if-none-match") == etag:
            return httpx.Response(304, headers={"ETag": etag})
        return httpx.Response(200, json=roster.to_export(), headers={"ETag": etag})

    applied: list[str] = []
    fail_next = [False]

    async def listener(roster: StaffRoster) -> None:
        if fail_next[0]:
            fail_next[0] = False
            raise RuntimeError("database down")
        applied.append(roster.revision)

    deps = Dependencies("test", CollectorRegistry())
    credentials = ServiceCredentials(ServiceKey.generate("proxy"))
    async with httpx.AsyncClient(transport=httpx.MockTransport(answer)) as http:
        copy = RosterCopy(url="http://gateway:8000", http=http, credentials=credentials, dependencies=deps)
        copy.on_change(listener)
        assert copy.url == "http://gateway:8000" + EXPORT_PATH and copy.following
        assert await copy.refresh() and await copy.refresh() is False
        assert applied == [served["roster"].revision]  # type: ignore[union-attr]
        assert seen[0].headers["authorization"].startswith("Bearer ") and "if-none-match" in seen[1].headers
        # A new revision whose application fails is applied again at the next poll.
        moved = StaffRoster.of([StaffRecord(**{**WORKER.to_export(), "grid": "chaoyang-g4", "roles": ("social_worker",), "stations": ()})])  # fmt: skip
        served["roster"], fail_next[0] = moved, True
        await copy.refresh()
        assert applied == [StaffRoster.of([WORKER]).revision]
        await copy.refresh()
        assert applied[-1] == moved.revision
        # The gateway fails: the copy stays, marked degraded; it recovers with the next answer.
        served["status"] = 503
        await copy.refresh()
        assert copy.current == moved and deps.read()["staff_roster"]["state"] == "degraded"
        served["status"] = 200
        await copy.refresh()
        assert deps.read()["staff_roster"]["state"] == "ok" and applied.count(moved.revision) == 1


def test_the_roster_keeps_field_staff_and_maps_keepers_to_stations() -> None:
    admin = StaffRecord("chaoyang.admin", "管理员", ("community_admin",), "hexian", "chaoyang", None)
    keeper = StaffRecord("a.keeper", "甲", ("station_keeper",), "hexian", "chaoyang", None, ("binjiang", "shuxiang"))
    off = StaffRecord("b.keeper", "乙", ("station_keeper",), "hexian", "chaoyang", None, ("shuxiang",), active=False)
    roster = StaffRoster.of([admin, keeper, off, WORKER])
    assert [r.username for r in roster.records] == ["a.keeper", "b.keeper", "chaoyang.li"]
    assert roster.keepers_of() == {"binjiang": ["a.keeper"], "shuxiang": ["a.keeper"]}
    assert [r.username for r in roster.workers] == ["chaoyang.li"]
    assert StaffRoster.from_export(roster.to_export()) == roster
    assert roster_url("http://gateway:8000/api/v1/directory/export") == "http://gateway:8000" + EXPORT_PATH
    assert roster_url(None) is None
    demo = demo_roster()
    assert demo.keepers_of()["shuxiang"] == ["shuxiang.keeper"] and len(demo.keepers_of()) == 78
    assert len(demo.workers) == 16
