"""Staff accounts as data (issue 19, part 4): created with a one-time code, kept within the
caller's scope (platform → county admins; county → its county; community → its community)."""

from __future__ import annotations

import httpx
from fastapi import FastAPI
from sqlalchemy import text

from doorstep_shared.staff_roster import demo_staff_file, read_staff_file

from ...support import Tokens
from .support import NEW_PASSWORD, activate, bearer, new_worker, other_county_admin, problem_fields, sign_in


async def test_a_new_account_is_activated_by_its_holder_and_then_signs_in(
    gateway: httpx.AsyncClient, gateway_app: FastAPI
) -> None:
    admin = await bearer(gateway, "county.admin")
    created = await gateway.post("/api/v1/staff", json=new_worker(), headers=admin)
    assert created.status_code == 201, created.text
    body = created.json()
    code = body["activation_code"]
    assert len(code.replace("-", "")) == 16
    assert body["phone"] == "138****5678" and body["county"] == "hexian"
    assert body["password_set"] is False and body["activation_expires_at"]
    # Shown once: reading the account again shows no code; the row keeps neither code nor phone.
    again = (await gateway.get("/api/v1/staff/chaoyang.newbie", headers=admin)).json()
    assert "activation_code" not in again and again["phone"] == "138****5678"
    async with gateway_app.state.sessionmaker() as session:
        row = (await session.execute(text("SELECT * FROM user_account WHERE username = 'chaoyang.newbie'"))).one()
    stored = " ".join(str(v) for v in row)
    assert code not in stored and code.replace("-", "") not in stored and "13812345678" not in stored
    # No password works before activation.
    assert (await sign_in(gateway, "chaoyang.newbie", "!unusable")).status_code == 400
    done = await activate(gateway, "chaoyang.newbie", code.lower())  # typing slips are forgiven
    assert done.status_code == 200, done.text
    me = await gateway.get("/api/v1/auth/me", headers=await bearer(gateway, "chaoyang.newbie", NEW_PASSWORD))
    assert me.json()["county"] == "hexian" and me.json()["grid"] == "chaoyang-g2"
    # Single use.
    reused = await activate(gateway, "chaoyang.newbie", code, "another-good-passphrase")
    assert reused.status_code == 400 and reused.json()["code"] == "activation_invalid"


async def test_bad_input_is_a_4xx_naming_the_field(gateway: httpx.AsyncClient) -> None:
    admin = await bearer(gateway, "county.admin")
    cases = [
        (new_worker(roles=["wizard"]), 422, "body.roles"),
        (new_worker(roles=[]), 422, "body.roles"),
        (new_worker(community="atlantis"), 422, "body.community"),
        (new_worker(grid="zhenhuai-g1"), 422, "body.grid"),
        (new_worker(phone="12345"), 422, "body.phone"),
        (new_worker(community=None, grid=None), 422, "body.community"),
        (new_worker(username="Bad Name"), 422, "body.username"),
        (new_worker(password="x"), 422, "body.password"),
    ]
    for body, status, field in cases:
        resp = await gateway.post("/api/v1/staff", json=body, headers=admin)
        assert resp.status_code == status, (body, resp.text)
        assert resp.headers["content-type"] == "application/problem+json"
        assert field in problem_fields(resp), (body, resp.json())
    assert (await gateway.post("/api/v1/staff", json=new_worker(), headers=admin)).status_code == 201
    taken = await gateway.post("/api/v1/staff", json=new_worker(), headers=admin)
    assert taken.status_code == 409 and taken.json()["code"] == "username_taken"


async def test_the_platform_admin_creates_county_admins_of_any_county_and_nothing_else(
    gateway: httpx.AsyncClient, tokens: Tokens
) -> None:
    platform = await bearer(gateway, "platform.admin")
    first = {
        "username": "otherxian.admin",
        "display_name": "县管理员",
        "roles": ["county_admin"],
        "county": "otherxian",
    }
    created = await gateway.post("/api/v1/staff", json=first, headers=platform)
    assert created.status_code == 201, created.text
    assert created.json()["county"] == "otherxian" and created.json()["community"] is None
    worker = await gateway.post("/api/v1/staff", json=new_worker(county="hexian"), headers=platform)
    assert worker.status_code in (403, 422) and problem_fields(worker)
    social = await gateway.post(
        "/api/v1/staff", json=first | {"username": "x.y.z", "roles": ["auditor"]}, headers=platform
    )
    assert social.status_code == 403 and problem_fields(social) == ["body.roles"]
    # It sees county admins only: not the county's workers.
    assert (await gateway.get("/api/v1/staff/chaoyang.worker", headers=platform)).status_code == 404
    listed = (await gateway.get("/api/v1/staff", headers=platform)).json()["items"]
    assert {u["username"] for u in listed} == {"county.admin", "otherxian.admin"}
    # The new county's admin manages their own county and sees nothing of this one.
    theirs = other_county_admin(tokens)
    assert (await gateway.get("/api/v1/staff/chaoyang.worker", headers=theirs)).status_code == 404
    assert [u["username"] for u in (await gateway.get("/api/v1/staff", headers=theirs)).json()["items"]] == [
        "otherxian.admin"
    ]


# caller, target, status: one gateway set-up for the whole matrix (cheap for CI).
WHO_READS_WHOM = [
    ("county.admin", "zhenhuai.worker", 200),
    ("county.admin", "chaoyang.admin", 200),
    ("county.admin", "platform.admin", 404),
    ("chaoyang.admin", "chaoyang.worker", 200),
    ("chaoyang.admin", "shuxiang.keeper", 200),
    ("chaoyang.admin", "zhenhuai.worker", 404),  # another community
    ("chaoyang.admin", "county.admin", 404),  # a county role
    ("chaoyang.worker", "chaoyang.worker", 403),  # no staff:manage
    ("county.auditor", "chaoyang.worker", 403),
]


async def test_who_reads_whose_account(gateway: httpx.AsyncClient) -> None:
    headers = {caller: await bearer(gateway, caller) for caller in {c for c, _, _ in WHO_READS_WHOM}}
    got = [
        (caller, target, (await gateway.get(f"/api/v1/staff/{target}", headers=headers[caller])).status_code)
        for caller, target, _ in WHO_READS_WHOM
    ]
    assert got == WHO_READS_WHOM


async def test_another_countys_admin_gets_404_for_this_countys_staff_on_every_route(
    gateway: httpx.AsyncClient, tokens: Tokens
) -> None:
    theirs = other_county_admin(tokens)
    for method, path in [
        ("GET", "/api/v1/staff/chaoyang.worker"),
        ("PATCH", "/api/v1/staff/chaoyang.worker"),
        ("POST", "/api/v1/staff/chaoyang.worker/deactivate"),
        ("POST", "/api/v1/staff/chaoyang.worker/reactivate"),
        ("POST", "/api/v1/staff/chaoyang.worker/reset"),
    ]:
        json = {"grid": "chaoyang-g1"} if method == "PATCH" else None
        resp = await gateway.request(method, path, headers=theirs, json=json)
        assert resp.status_code == 404, (method, path, resp.text)
    mine = await gateway.post("/api/v1/staff", json=new_worker(county="hexian"), headers=theirs)
    assert mine.status_code == 403 and problem_fields(mine) == ["body.county"]
    # Nor can it place its own people in this county's communities (they would see its residents).
    planted = await gateway.post("/api/v1/staff", json=new_worker(county="otherxian"), headers=theirs)
    assert planted.status_code == 422 and problem_fields(planted) == ["body.community"]
    # The directory's staff list keeps to the county too.
    assert (await gateway.get("/api/v1/directory/users", headers=theirs)).json() == []
    ours = (await gateway.get("/api/v1/directory/users", headers=await bearer(gateway, "county.admin"))).json()
    assert "chaoyang.worker" in {u["username"] for u in ours}


async def test_a_community_admin_manages_their_community_with_community_roles_only(gateway: httpx.AsyncClient) -> None:
    admin = await bearer(gateway, "chaoyang.admin")
    # A county-level account placed in the community stays the county's business.
    county = await bearer(gateway, "county.admin")
    auditor = new_worker("chaoyang.auditor", roles=["auditor"], grid=None)
    assert (await gateway.post("/api/v1/staff", json=auditor, headers=county)).status_code == 201
    assert (await gateway.get("/api/v1/staff/chaoyang.auditor", headers=admin)).status_code == 404
    granted = await gateway.post("/api/v1/staff", json=new_worker(roles=["county_admin"]), headers=admin)
    assert granted.status_code == 403 and problem_fields(granted) == ["body.roles"]
    platform = await gateway.post("/api/v1/staff", json=new_worker(roles=["platform_admin"]), headers=admin)
    assert platform.status_code == 403 and problem_fields(platform) == ["body.roles"]
    elsewhere = await gateway.post(
        "/api/v1/staff", json=new_worker(community="zhenhuai", grid="zhenhuai-g1"), headers=admin
    )
    assert elsewhere.status_code == 403 and problem_fields(elsewhere) == ["body.community"]
    ok = await gateway.post("/api/v1/staff", json=new_worker(community=None, grid="chaoyang-g1"), headers=admin)
    assert ok.status_code == 201 and ok.json()["community"] == "chaoyang"
    listed = (await gateway.get("/api/v1/staff", headers=admin)).json()["items"]
    assert {u["community"] for u in listed} == {"chaoyang"}
    names = {u["username"] for u in listed}
    assert "chaoyang.admin" in names and not names & {"county.admin", "chaoyang.auditor"}
    promote = await gateway.patch("/api/v1/staff/chaoyang.newbie", json={"roles": ["auditor"]}, headers=admin)
    assert promote.status_code == 403 and problem_fields(promote) == ["body.roles"]


async def test_patch_changes_roles_grid_and_stations(gateway: httpx.AsyncClient) -> None:
    admin = await bearer(gateway, "county.admin")
    resp = await gateway.patch(
        "/api/v1/staff/shuxiang.keeper",
        json={"roles": ["station_keeper", "social_worker"], "grid": "chaoyang-g4", "stations": ["shuxiang"]},
        headers=admin,
    )
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["roles"] == ["social_worker", "station_keeper"]
    assert body["grid"] == "chaoyang-g4" and body["stations"] == ["shuxiang"]
    bad_grid = await gateway.patch("/api/v1/staff/shuxiang.keeper", json={"grid": "zhenhuai-g1"}, headers=admin)
    assert bad_grid.status_code == 422 and problem_fields(bad_grid) == ["body.grid"]
    unknown = await gateway.patch("/api/v1/staff/shuxiang.keeper", json={"community": "zhenhuai"}, headers=admin)
    assert unknown.status_code == 422  # not a field one may change here
    # The new roles reach the holder's token at their next sign-in.
    me = await gateway.get("/api/v1/auth/me", headers=await bearer(gateway, "shuxiang.keeper"))
    assert me.json()["roles"] == ["social_worker", "station_keeper"]


async def test_list_filters_by_community_grid_role_and_active(gateway: httpx.AsyncClient) -> None:
    admin = await bearer(gateway, "county.admin")

    async def names(**params: object) -> list[str]:
        resp = await gateway.get("/api/v1/staff", headers=admin, params=params)
        assert resp.status_code == 200, resp.text
        return [u["username"] for u in resp.json()["items"]]

    # The demo staff file: the logins, a worker for every grid of two communities, a keeper per station.
    demo = read_staff_file(demo_staff_file())

    def demo_names(**where: str) -> list[str]:
        return sorted(
            r["username"]
            for r in demo
            if all(v in r["roles"] if k == "role" else r[k] == v for k, v in where.items())
            and not {"county_admin", "auditor", "platform_admin"} & set(r["roles"])
        )

    assert await names(community="chaoyang") == demo_names(community="chaoyang")
    assert {"chaoyang.admin", "chaoyang.worker", "shuxiang.keeper"} <= set(demo_names(community="chaoyang"))
    assert await names(grid="chaoyang-g6") == demo_names(grid="chaoyang-g6")
    assert "chaoyang.worker" in demo_names(grid="chaoyang-g6")
    assert await names(role="social_worker", limit=200) == demo_names(role="social_worker")
    assert len(demo_names(role="social_worker")) == 16
    assert "platform.admin" not in await names()
    unknown = await gateway.get("/api/v1/staff", headers=admin, params={"role": "%"})
    assert unknown.status_code == 422 and problem_fields(unknown) == ["query.role"]
    await gateway.post("/api/v1/staff/zhenhuai.worker/deactivate", headers=admin)
    assert await names(active="false") == ["zhenhuai.worker"]
    first = (await gateway.get("/api/v1/staff", headers=admin, params={"limit": 2})).json()
    assert len(first["items"]) == 2 and first["next_cursor"]
    rest = await names(cursor=first["next_cursor"], limit=200)
    assert rest and rest[0] > first["items"][-1]["username"]


async def test_every_staff_change_is_in_the_audit_log(gateway: httpx.AsyncClient, tokens: Tokens) -> None:
    admin = await bearer(gateway, "county.admin")
    code = (await gateway.post("/api/v1/staff", json=new_worker(), headers=admin)).json()["activation_code"]
    await activate(gateway, "chaoyang.newbie", code)
    await gateway.patch("/api/v1/staff/chaoyang.newbie", json={"grid": "chaoyang-g3"}, headers=admin)
    await gateway.post("/api/v1/staff/chaoyang.newbie/reset", headers=admin)
    await gateway.post("/api/v1/staff/chaoyang.newbie/deactivate", headers=admin)
    await gateway.post("/api/v1/staff/chaoyang.newbie/reactivate", headers=admin)
    auditor = tokens.headers("auditor", community=None)
    resp = await gateway.get("/api/v1/audit", headers=auditor, params={"subject_id": "chaoyang.newbie", "limit": 50})
    assert resp.status_code == 200, resp.text
    entries = resp.json()["items"]
    actions = [(e["action"], e["actor"]) for e in reversed(entries) if e["action"].startswith("staff.")]
    assert actions == [
        ("staff.created", "county.admin"),
        ("staff.activated", "chaoyang.newbie"),
        ("staff.updated", "county.admin"),
        ("staff.reset", "county.admin"),
        ("staff.deactivated", "county.admin"),
        ("staff.reactivated", "county.admin"),
    ]
    logged = resp.text
    assert code not in logged and "13812345678" not in logged and NEW_PASSWORD not in logged
