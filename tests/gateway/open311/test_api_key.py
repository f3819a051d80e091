"""Open311 with GeoReport v2 credentials (issue 21, part 3): the client registry issues a machine
client an ``api_key``; GeoReport clients send it as a query or form parameter; the catalogue
routes are public; the key is kept only as a hash and never reaches a log line."""

from __future__ import annotations

import asyncio
import hashlib
import io
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
import requests
import uvicorn
import xmltodict
from fastapi import FastAPI
from georeport import GeoReport
from sqlalchemy import text

from doorstep_shared.http.observability import RedactingJsonFormatter

from ...support import Tokens, free_port
from ..service_apps import Wired, service_apps_fixture, services_fixture  # noqa: F401 (fixtures)

pytestmark = pytest.mark.dates

V2 = "/open311/v2"
REQUEST = {"service_code": "elderly-allowance", "address_string": "滨江花园6栋502", "description": "想申请高龄津贴"}


def admin(tokens: Tokens) -> dict[str, str]:
    return tokens.headers("security_officer", community=None, subject="county.security")


async def new_client(gateway: httpx.AsyncClient, tokens: Tokens, **extra: Any) -> dict[str, Any]:
    body = {
        "name": "Provincial 12345 platform",
        "scopes": ["catalog:read", "demands:read", "demands:write"],
        "communities": ["chaoyang", "zhenhuai"],
        **extra,
    }
    created = await gateway.post("/api/v1/clients", headers=admin(tokens), json=body)
    assert created.status_code == 201, created.text
    client: dict[str, Any] = created.json()
    return client


async def issue_key(gateway: httpx.AsyncClient, tokens: Tokens, client_id: str) -> str:
    resp = await gateway.post(f"/api/v1/clients/{client_id}/api-key", headers=admin(tokens))
    assert resp.status_code == 200, resp.text
    key: str = resp.json()["api_key"]
    assert key.startswith(f"dsk.{resp.json()['api_key_id']}.")
    return key


def spec_errors(resp: httpx.Response | requests.Response, status: int) -> list[dict[str, Any]]:
    assert resp.status_code == status, resp.text
    body: list[dict[str, Any]] = resp.json()
    assert body and all(set(e) == {"code", "description"} and e["code"] == status for e in body), body
    return body


@asynccontextmanager
async def served(app: FastAPI) -> AsyncIterator[str]:
    """The running gateway app on a real socket (uvicorn in this event loop, access log on)."""
    port = free_port()
    levels = {name: logging.getLogger(name).level for name in ("uvicorn", "uvicorn.error", "uvicorn.access")}
    config = uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="off", log_config=None, log_level="info")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        for _ in range(1000):  # up to 10 s
            if server.started:
                break
            await asyncio.sleep(0.01)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)


async def test_the_georeport_library_lists_services_in_json_and_xml_without_a_key_and_posts_with_one(
    gateway: httpx.AsyncClient, services: Wired, tokens: Tokens
) -> None:
    key = await issue_key(gateway, tokens, (await new_client(gateway, tokens))["client_id"])
    async with served(services.gateway_app) as origin:
        root = f"{origin}{V2}"
        as_json, as_xml = GeoReport(root, jurisdiction="hexian"), GeoReport(root, output_format="xml")
        listed = await asyncio.to_thread(as_json.get_service_list)
        assert len(listed) == 68 and {s["service_code"] for s in listed} >= {"elderly-allowance"}
        in_xml = await asyncio.to_thread(as_xml.get_service_list)
        assert [s["service_code"] for s in in_xml] == [s["service_code"] for s in listed]
        definition = await asyncio.to_thread(as_json.get_service_definition, "elderly-allowance")
        assert definition["service_code"] == "elderly-allowance"
        assert {"community", "kind"} <= {a["code"] for a in definition["attributes"]}
        xml_definition = await asyncio.to_thread(as_xml.get_service_definition, "elderly-allowance")
        assert xml_definition["service_code"] == "elderly-allowance"

        # georeport 0.3.1 has no POST and never sends api_key: its own HTTP stack (requests) does,
        # as GeoReport v2 has it (a form field on POST, a query parameter on GET).
        posted = await asyncio.to_thread(requests.post, f"{root}/requests.xml", data={**REQUEST, "api_key": key})
        assert posted.status_code == 201, posted.text
        request_id = xmltodict.parse(posted.content)["service_requests"]["request"]["service_request_id"]
        # Without the key the library's own GET is refused, in the spec's format.
        with pytest.raises(requests.HTTPError) as refused:
            await asyncio.to_thread(as_json.get_service_request, request_id)
        spec_errors(refused.value.response, 403)
        got = await asyncio.to_thread(
            requests.get, f"{root}/requests/{request_id}.json", params={"api_key": key, "jurisdiction_id": "hexian"}
        )
        assert got.status_code == 200, got.text
        assert got.json()[0]["service_request_id"] == request_id
        assert got.json()[0]["service_code"] == "elderly-allowance"
        wrong = await asyncio.to_thread(
            requests.post, f"{root}/requests.json", data={**REQUEST, "api_key": key[:-4] + "AAAA"}
        )
        assert "invalid" in spec_errors(wrong, 403)[0]["description"]


async def test_the_key_acts_as_the_client_exactly_as_its_bearer_token_does(
    gateway: httpx.AsyncClient, services: Wired, tokens: Tokens
) -> None:
    client = await new_client(gateway, tokens)
    key = await issue_key(gateway, tokens, client["client_id"])
    posted = await services.gateway.post(f"{V2}/requests.json", params={"api_key": key}, data=REQUEST)
    assert posted.status_code == 201, posted.text
    request_id = posted.json()[0]["service_request_id"]
    grant = {
        "grant_type": "client_credentials",
        "client_id": client["client_id"],
        "client_secret": client["client_secret"],
    }
    token = (await gateway.post("/api/v1/auth/token", data=grant)).json()["access_token"]
    bearer = {"Authorization": f"Bearer {token}"}
    by_token = await services.gateway.get(f"{V2}/requests/{request_id}.json", headers=bearer)
    assert by_token.status_code == 200 and by_token.json()[0]["service_request_id"] == request_id
    # Another client's key does not see it: the proxy scopes demands to the client that sent them.
    other = await issue_key(gateway, tokens, (await new_client(gateway, tokens))["client_id"])
    hidden = await services.gateway.get(f"{V2}/requests/{request_id}.json", params={"api_key": other})
    spec_errors(hidden, 404)


async def test_requests_need_a_credential_while_discovery_and_services_do_not(services: Wired) -> None:
    gw = services.gateway
    assert (await gw.get("/open311/discovery.json")).status_code == 200
    assert (await gw.get(f"{V2}/services/elderly-allowance.xml")).status_code == 200
    no_key = await gw.post(f"{V2}/requests.json", data=REQUEST)
    assert "api_key was not provided" in spec_errors(no_key, 403)[0]["description"]
    spec_errors(await gw.get(f"{V2}/requests/00000000-0000-0000-0000-000000000000.json"), 403)
    spec_errors(await gw.get(f"{V2}/requests.json", params={"api_key": "dsk.0123456789abcdef.nope"}), 403)


async def test_the_key_is_stored_only_as_its_sha256_and_shown_once(
    gateway: httpx.AsyncClient, services: Wired, tokens: Tokens
) -> None:
    client_id = (await new_client(gateway, tokens))["client_id"]
    key = await issue_key(gateway, tokens, client_id)
    secret = key.rsplit(".", 1)[1]
    async with services.gateway_app.state.engine.connect() as conn:
        row = (
            (await conn.execute(text("SELECT * FROM api_client WHERE client_id = :c"), {"c": client_id}))
            .mappings()
            .one()
        )
        audit = (await conn.execute(text("SELECT * FROM audit_log"))).all()
    assert row["api_key_hash"] == hashlib.sha256(key.encode()).hexdigest()
    assert not any(secret in str(value) for value in row.values())
    assert any("client.api_key_issued" in str(r) for r in audit) and not any(secret in str(r) for r in audit)
    shown = (await gateway.get(f"/api/v1/clients/{client_id}", headers=admin(tokens))).json()
    assert "api_key" not in shown and shown["api_key_id"] == key.split(".")[1]


async def test_a_new_key_replaces_the_old_and_revocation_ends_it(
    gateway: httpx.AsyncClient, services: Wired, tokens: Tokens
) -> None:
    client_id = (await new_client(gateway, tokens))["client_id"]
    old = await issue_key(gateway, tokens, client_id)
    new = await issue_key(gateway, tokens, client_id)
    gw = services.gateway
    assert (await gw.get(f"{V2}/requests.json", params={"api_key": new})).status_code == 200
    spec_errors(await gw.get(f"{V2}/requests.json", params={"api_key": old}), 403)
    assert (await gateway.post(f"/api/v1/clients/{client_id}/revoke", headers=admin(tokens))).status_code == 200
    spec_errors(await gw.get(f"{V2}/requests.json", params={"api_key": new}), 403)
    again = await gateway.post(f"/api/v1/clients/{client_id}/api-key", headers=admin(tokens))
    assert again.status_code == 409


async def test_key_calls_count_against_the_clients_own_quota(
    gateway: httpx.AsyncClient, services: Wired, tokens: Tokens
) -> None:
    key = await issue_key(gateway, tokens, (await new_client(gateway, tokens, quota_per_minute=2))["client_id"])
    gw = services.gateway
    for _ in range(2):
        assert (await gw.get(f"{V2}/requests.json", params={"api_key": key})).status_code == 200
    limited = await gw.post(f"{V2}/requests.json", data={**REQUEST, "api_key": key})  # the form field counts too
    assert "Too many requests" in spec_errors(limited, 429)[0]["description"]
    # Keyless calls are counted per address, not against that client.
    assert (await gw.get(f"{V2}/services.json")).status_code == 200


async def test_the_key_never_reaches_a_log_line(gateway: httpx.AsyncClient, services: Wired, tokens: Tokens) -> None:
    key = await issue_key(gateway, tokens, (await new_client(gateway, tokens))["client_id"])
    secret = key.rsplit(".", 1)[1]
    lines = io.StringIO()
    handler = logging.StreamHandler(lines)
    handler.setFormatter(RedactingJsonFormatter("%(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        async with served(services.gateway_app) as origin, httpx.AsyncClient(base_url=origin) as http:
            logging.getLogger("uvicorn.access").setLevel(logging.INFO)
            assert (await http.get(f"{V2}/requests.json", params={"api_key": key})).status_code == 200
            assert (await http.get(f"{V2}/requests.json", params={"api_key": key + "x"})).status_code == 403
    finally:
        root.removeHandler(handler)
    logged = lines.getvalue()
    assert "/open311/v2/requests.json?api_key=" in logged  # the access log printed the query…
    assert secret not in logged and "[redacted]" in logged  # …without the key


async def test_a_json_body_may_carry_the_key_and_the_clients_ip_allow_list_holds_for_it(
    gateway: httpx.AsyncClient, services: Wired, tokens: Tokens
) -> None:
    gw = services.gateway
    key = await issue_key(gateway, tokens, (await new_client(gateway, tokens))["client_id"])
    posted = await gw.post(f"{V2}/requests.json", json={**REQUEST, "api_key": key})
    assert posted.status_code == 201, posted.text
    elsewhere = await new_client(gateway, tokens, ip_allowlist=["10.0.0.0/8"])  # the test client is 127.0.0.1
    fenced = await issue_key(gateway, tokens, elsewhere["client_id"])
    refused = await gw.post(f"{V2}/requests.json", data={**REQUEST, "api_key": fenced})
    assert "address" in spec_errors(refused, 403)[0]["description"]
