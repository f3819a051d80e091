"""Open311 GeoReport v2 at the gateway, against the real catalog and proxy apps, with the spec's examples."""

from __future__ import annotations

import datetime as dt
import itertools
import uuid
from typing import Any
from xml.etree import ElementTree as ET

import httpx
import pytest

from doorstep_proxy.demo import make_id_number
from doorstep_shared.clock import utcnow

from ...support import Tokens
from ..service_apps import Wired, service_apps_fixture, services_fixture  # noqa: F401 (fixtures)

pytestmark = pytest.mark.dates

V2 = "/open311/v2"
SCOPES = ("catalog:read", "demands:write", "demands:read", "cases:read")
XML_DECLARATION = '<?xml version="1.0" encoding="utf-8"?>'
# The spec's POST example, with this county's values where the spec's would not exist here.
SPEC_POST = (
    "api_key=xyz&jurisdiction_id=hexian&service_code=elderly-allowance&lat=31.7134&long=118.3652"
    "&address_string=%E6%BB%A8%E6%B1%9F%E8%8A%B1%E5%9B%AD6%E6%A0%8B502"  # 滨江花园6栋502
    "&email=smit333%40sfgov.edu&device_id=tt222111&account_id=123456&first_name=%E6%98%8E&last_name=%E7%8E%8B"
    "&phone=13800138000&description=A+large+sinkhole+is+destroying+the+street"
    "&media_url=http%3A%2F%2Ffarm3.static.flickr.com%2F2002%2F2212426634_5ed477a060.jpg"
    "&attribute[material_1]=ready&attribute[preferred_visit]=%E5%B7%A5%E4%BD%9C%E6%97%A5%E4%B8%8A%E5%8D%88"
)
FORM = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
_serial = itertools.count(301)


def platform(tokens: Tokens, subject: str = "demo.platform", **kwargs: Any) -> dict[str, str]:
    kwargs.setdefault("scopes", SCOPES)
    kwargs.setdefault("communities", ("chaoyang", "zhenhuai"))
    return tokens.headers(None, kind="client", subject=subject, **kwargs)


def worker(tokens: Tokens) -> dict[str, str]:
    return tokens.headers("social_worker", community="chaoyang", grid="chaoyang-g6", subject="chaoyang.worker")


def errors_of(resp: httpx.Response) -> list[dict[str, Any]]:
    assert resp.headers["content-type"] == "application/json; charset=utf-8", resp.text
    body: list[dict[str, Any]] = resp.json()
    assert isinstance(body, list) and body, body
    assert all(set(e) == {"code", "description"} and e["code"] == resp.status_code for e in body), body
    return body


def xml_of(resp: httpx.Response) -> ET.Element:
    assert resp.headers["content-type"] == "text/xml; charset=utf-8"
    assert resp.text.startswith(XML_DECLARATION)
    return ET.fromstring(resp.content)  # noqa: S314 (our own server's answer)


async def post_request(services: Wired, headers: dict[str, str], **fields: str) -> str:
    body = {"service_code": "elderly-allowance", "address_string": "滨江花园6栋", **fields}
    resp = await services.gateway.post(f"{V2}/requests.json", data=body, headers=headers)
    assert resp.status_code == 201, resp.text
    created: str = resp.json()[0]["service_request_id"]
    return created


async def test_service_list_in_json_names_every_window_and_proxy_item(services: Wired, tokens: Tokens) -> None:
    resp = await services.gateway.get(f"{V2}/services.json", headers=platform(tokens))
    assert resp.status_code == 200 and resp.headers["content-type"] == "application/json; charset=utf-8"
    listed = {s["service_code"]: s for s in resp.json()}
    assert len(listed) == 68  # the handbook's 68 items are all handled at the window
    allowance = listed["elderly-allowance"]
    assert list(allowance) == [
        "service_code",
        "service_name",
        "description",
        "metadata",
        "type",
        "keywords",
        "group",
    ]
    assert allowance["service_name"] == "高龄补贴" and allowance["metadata"] is True
    assert allowance["type"] == "realtime" and "高龄津贴" in allowance["keywords"].split(", ")
    assert allowance["group"] and allowance["group"] != "elderly-livelihood"  # the category's name


async def test_service_list_in_xml_has_the_spec_elements(services: Wired, tokens: Tokens) -> None:
    resp = await services.gateway.get(f"{V2}/services.xml?jurisdiction_id=hexian", headers=platform(tokens))
    root = xml_of(resp)
    assert root.tag == "services" and len(root) == 68
    first = root[0]
    assert first.tag == "service"
    assert [c.tag for c in first] == [
        "service_code",
        "service_name",
        "description",
        "metadata",
        "type",
        "keywords",
        "group",
    ]
    assert {s.findtext("metadata") for s in root} == {"true"}


async def test_service_definition_asks_for_community_kind_and_each_material(services: Wired, tokens: Tokens) -> None:
    resp = await services.gateway.get(f"{V2}/services/elderly-allowance.json", headers=platform(tokens))
    assert resp.status_code == 200, resp.text
    definition = resp.json()
    assert definition["service_code"] == "elderly-allowance"
    attrs = {a["code"]: a for a in definition["attributes"]}
    assert attrs["community"]["datatype"] == "singlevaluelist"
    assert {"key": "chaoyang", "name": "朝阳社区"} in attrs["community"]["values"]
    assert [v["key"] for v in attrs["kind"]["values"]] == ["request", "consultation"]
    materials = [a for code, a in attrs.items() if code.startswith("material_")]
    assert materials and all(a["variable"] and not a["required"] for a in materials)
    assert "preferred_visit" in attrs  # fit for doorstep proxy handling
    assert [a["order"] for a in definition["attributes"]] == list(range(1, len(attrs) + 1))

    root = xml_of(await services.gateway.get(f"{V2}/services/elderly-allowance.xml", headers=platform(tokens)))
    assert root.tag == "service_definition" and root.findtext("service_code") == "elderly-allowance"
    community = next(a for a in root.iter("attribute") if a.findtext("code") == "community")
    # The same communities as the JSON definition, in the directory's order.
    assert [v.findtext("key") for v in community.find("values") or []] == [
        v["key"] for v in attrs["community"]["values"]
    ]


async def test_the_specs_post_example_creates_a_demand_and_reads_back(
    services: Wired, gateway: httpx.AsyncClient, tokens: Tokens
) -> None:
    # The platform's credentials: client credentials at the token endpoint play the api_key.
    token = await gateway.post(
        "/api/v1/auth/token",
        data={"grant_type": "client_credentials", "client_id": "demo.platform", "client_secret": "doorstep-demo"},
    )
    assert token.status_code == 200, token.text
    headers = {"Authorization": f"Bearer {token.json()['access_token']}"}

    resp = await services.gateway.post(f"{V2}/requests.xml", content=SPEC_POST, headers={**headers, **FORM})
    assert resp.status_code == 201, resp.text
    request = xml_of(resp).find("request")
    assert request is not None
    demand_id = request.findtext("service_request_id") or ""
    assert uuid.UUID(demand_id) and request.findtext("account_id") == "123456"
    assert "承诺" in (request.findtext("service_notice") or "")

    # What the proxy recorded: a platform demand in the compound's community and grid.
    demand = (await services.proxy.get(f"/api/v1/proxy/demands/{demand_id}", headers=worker(tokens))).json()
    assert demand["channel"] == "platform" and demand["source_client"] == "demo.platform"
    assert (demand["community"], demand["grid"]) == ("chaoyang", "chaoyang-g6")
    assert demand["contact_name"] == "王明" and demand["contact_phone_masked"] == "138****8000"
    assert demand["external_ref"] == "123456" and demand["item_code"] == "elderly-allowance"
    assert "smit333" not in demand["text"] and "tt222111" not in demand["text"]  # not kept

    one = await services.gateway.get(f"{V2}/requests/{demand_id}.json", headers=headers)
    assert one.status_code == 200, one.text
    (read,) = one.json()
    assert read["service_request_id"] == demand_id and read["status"] == "open"
    assert read["status_notes"].startswith("已受理")
    assert read["service_name"] == "高龄补贴" and read["service_code"] == "elderly-allowance"
    assert read["description"] == "A large sinkhole is destroying the street"
    assert read["address"] == "滨江花园6栋502" and (read["lat"], read["long"]) == (31.7134, 118.3652)
    assert read["media_url"] == "http://farm3.static.flickr.com/2002/2212426634_5ed477a060.jpg"
    assert read["agency_responsible"] and read["expected_datetime"] is None
    assert read["requested_datetime"].endswith("+08:00")
    assert dt.datetime.fromisoformat(read["requested_datetime"]) <= utcnow()

    xml = xml_of(await services.gateway.get(f"{V2}/requests/{demand_id}.xml", headers=headers))
    assert xml.tag == "service_requests" and xml[0].tag == "request"
    assert xml[0].findtext("status") == "open" and xml[0].findtext("zipcode") == ""


async def test_a_json_body_is_accepted_too(services: Wired, tokens: Tokens) -> None:
    body = {
        "service_code": "pension-face-check",
        "lat": 31.7,
        "long": 118.4,
        "description": "老人行动不便，需要上门刷脸认证",
        "attribute": {"community": "zhenhuai", "kind": "consultation"},
    }
    resp = await services.gateway.post(f"{V2}/requests.json", json=body, headers=platform(tokens))
    assert resp.status_code == 201, resp.text
    (created,) = resp.json()
    assert set(created) == {"service_request_id", "service_notice", "account_id"} and created["account_id"] is None
    demand = (
        await services.proxy.get(
            f"/api/v1/proxy/demands/{created['service_request_id']}",
            headers=tokens.headers("county_admin", community=None),
        )
    ).json()
    assert (demand["community"], demand["kind"]) == ("zhenhuai", "consultation")
    assert "坐标：31.7,118.4" in demand["text"]


@pytest.mark.parametrize(
    ("body", "status", "says"),
    [
        ({"address_string": "滨江花园"}, 400, "service_code was not provided"),
        ({"service_code": "001", "address_string": "滨江花园"}, 404, "service_code '001' not found"),
        ({"service_code": "elderly-allowance", "jurisdiction_id": "city.gov"}, 404, "jurisdiction_id"),
        ({"service_code": "elderly-allowance"}, 400, "A location is required"),
        ({"service_code": "elderly-allowance", "lat": "31.7"}, 400, "lat and long must be sent together"),
        ({"service_code": "elderly-allowance", "lat": "x", "long": "1"}, 400, "must be numbers"),
        ({"service_code": "elderly-allowance", "address_string": "滨江花园", "phone": "12345"}, 400, "phone:"),
        ({"service_code": "elderly-allowance", "address_string": "滨江花园", "colour": "red"}, 400, "colour"),
        ({"service_code": "elderly-allowance", "address_id": "A-17"}, 400, "attribute[community]"),
        (
            {"service_code": "elderly-allowance", "address_string": "滨江花园", "attribute[community]": "mars"},
            400,
            "attribute[community]: must be one of",
        ),
        (
            {"service_code": "elderly-allowance", "address_string": "滨江花园", "attribute[shoe_size]": "42"},
            400,
            "attribute[shoe_size]: not an attribute",
        ),
        ({"service_code": "elderly-allowance", "address_string": "x", "media_url": "ftp://a"}, 400, "media_url"),
        ({"service_code": "elderly-allowance", "address_string": "x", "description": "长" * 2001}, 400, "description"),
    ],
)
async def test_a_malformed_post_gets_the_specs_error_format(
    services: Wired, tokens: Tokens, body: dict[str, str], status: int, says: str
) -> None:
    resp = await services.gateway.post(f"{V2}/requests.json", data=body, headers=platform(tokens))
    assert resp.status_code == status, resp.text
    assert any(says in e["description"] for e in errors_of(resp)), resp.text


async def test_credentials_and_scopes_answer_403_in_the_specs_format(services: Wired, tokens: Tokens) -> None:
    gw = services.gateway
    no_token = await gw.get(f"{V2}/requests.xml")  # the services are public (test_api_key.py)
    assert no_token.status_code == 403
    root = xml_of(no_token)
    assert root.tag == "errors" and root[0].tag == "error" and root[0].findtext("code") == "403"
    read_only = platform(tokens, scopes=("catalog:read", "demands:read"))
    denied = await gw.post(f"{V2}/requests.json", data={"service_code": "elderly-allowance"}, headers=read_only)
    assert denied.status_code == 403 and "demands:write" in errors_of(denied)[0]["description"]
    bad = await gw.get(f"{V2}/requests.json", headers={"Authorization": "Bearer not-a-token"})
    assert bad.status_code == 403 and errors_of(bad)
    assert "problem" not in bad.headers["content-type"]


@pytest.mark.parametrize(
    ("path", "status", "says"),
    [
        ("/services.yaml", 400, "Unsupported format"),
        ("/services.json?jurisdiction_id=sfgov.org", 404, "jurisdiction_id"),
        ("/services/no-such-item.json", 404, "not found"),
        ("/requests.json?start_date=yesterday", 400, "start_date"),
        ("/requests.json?start_date=2025-01-01T00:00:00", 400, "time zone"),
        ("/requests.json?start_date=2025-01-01T00:00:00Z&end_date=2025-06-01T00:00:00Z", 400, "90 days"),
        ("/requests.json?start_date=2025-02-01T00:00:00Z&end_date=2025-01-01T00:00:00Z", 400, "before"),
        ("/requests.json?status=pending", 400, "status"),
        ("/requests.json?service_request_id=638344", 400, "not a service request id"),
        ("/requests/638344.json", 404, "not found"),
        ("/requests", 404, "append .xml or .json"),
        ("/tokens/12345.json", 404, "No such Open311 resource"),
    ],
)
async def test_malformed_reads_get_the_specs_error_format(
    services: Wired, tokens: Tokens, path: str, status: int, says: str
) -> None:
    resp = await services.gateway.get(V2 + path, headers=platform(tokens))
    assert resp.status_code == status, resp.text
    if path.split("?")[0].endswith(".json"):
        assert any(says in e["description"] for e in errors_of(resp)), resp.text
    else:
        root = xml_of(resp)
        assert root.tag == "errors" and says in (root[0].findtext("description") or "")


async def test_requests_listing_applies_the_specs_filters(services: Wired, tokens: Tokens) -> None:
    h = platform(tokens)
    first = await post_request(services, h)
    second = await post_request(services, h, service_code="pension-face-check")
    third = await post_request(services, h)
    answered = await services.proxy.post(
        f"/api/v1/proxy/demands/{third}/answer", json={"answer": "已电话告知办理流程"}, headers=worker(tokens)
    )
    assert answered.status_code == 200, answered.text
    gw = services.gateway

    async def ids(query: str) -> list[str]:
        resp = await gw.get(f"{V2}/requests.json{query}", headers=h)
        assert resp.status_code == 200, resp.text
        return [r["service_request_id"] for r in resp.json()]

    assert await ids("") == [third, second, first]  # newest first, default: the last 90 days
    assert await ids("?service_code=elderly-allowance") == [third, first]
    assert await ids("?service_code=pension-face-check,elderly-allowance&status=open") == [second, first]
    assert await ids("?status=closed") == [third]
    assert await ids(f"?service_request_id={first},{uuid.uuid4()},{third}&status=open") == [first, third]
    assert await ids("?start_date=2010-05-24T00:00:00Z&end_date=2010-06-24T00:00:00Z") == []
    today = utcnow()
    recent = f"?start_date={(today - dt.timedelta(days=1)).date().isoformat()}&jurisdiction_id=hexian"
    assert len(await ids(recent)) == 3
    assert await ids("?end_date=2010-06-24T00:00:00%2B08:00") == []
    closed = (await gw.get(f"{V2}/requests/{third}.json", headers=h)).json()[0]
    assert closed["status"] == "closed" and closed["status_notes"] == "已答复：已电话告知办理流程"


async def test_a_request_follows_its_case_to_closed(services: Wired, tokens: Tokens) -> None:
    h, staff = platform(tokens), worker(tokens)
    demand_id = await post_request(services, h)
    resident = await services.proxy.post(
        "/api/v1/proxy/residents",
        json={
            "name": "韩志远",
            "id_number": make_id_number(dt.date(1940, 3, 2), next(_serial) * 2 + 1, "male"),
            "compound": "binjiang",
            "building": "6",
        },
        headers=staff,
    )
    assert resident.status_code == 201, resident.text
    case = await services.proxy.post(
        "/api/v1/proxy/cases",
        json={
            "resident_id": resident.json()["id"],
            "item_code": "elderly-allowance",
            "channel": "platform",
            "demand_id": demand_id,
        },
        headers=staff,
    )
    assert case.status_code == 201, case.text
    due = case.json()["due_date"]

    (read,) = (await services.gateway.get(f"{V2}/requests/{demand_id}.json", headers=h)).json()
    assert (read["status"], read["status_notes"]) == ("open", "已转为代办件，已受理")
    assert read["expected_datetime"] == f"{due}T23:59:59+08:00"

    withdrawn = await services.proxy.post(
        f"/api/v1/proxy/cases/{case.json()['id']}/transitions",
        json={"to": "withdrawn", "note": "居民已自行办理"},
        headers={**staff, "If-Match": case.headers["etag"]},
    )
    assert withdrawn.status_code == 200, withdrawn.text
    (read,) = (await services.gateway.get(f"{V2}/requests/{demand_id}.json", headers=h)).json()
    assert (read["status"], read["status_notes"]) == ("closed", "已撤回")
    assert read["updated_datetime"] >= read["requested_datetime"]

    # Without cases:read the platform still gets the demand's own state.
    narrow = platform(tokens, scopes=("demands:read",))
    (read,) = (await services.gateway.get(f"{V2}/requests/{demand_id}.json", headers=narrow)).json()
    assert (read["status"], read["status_notes"], read["service_name"]) == ("open", "已转为代办件", None)


async def test_a_client_never_sees_another_clients_requests(services: Wired, tokens: Tokens) -> None:
    mine = await post_request(services, platform(tokens, subject="platform.a"))
    other = platform(tokens, subject="platform.b")
    gw = services.gateway
    one = await gw.get(f"{V2}/requests/{mine}.json", headers=other)
    assert one.status_code == 404 and errors_of(one)
    assert (await gw.get(f"{V2}/requests.json", headers=other)).json() == []
    assert (await gw.get(f"{V2}/requests.json?service_request_id={mine}", headers=other)).json() == []
    assert len((await gw.get(f"{V2}/requests.json", headers=platform(tokens, subject="platform.a"))).json()) == 1


async def test_a_service_that_is_down_is_a_general_service_error(services: Wired, tokens: Tokens) -> None:
    services.down("catalog")
    resp = await services.gateway.get(f"{V2}/services.json", headers=platform(tokens))
    assert resp.status_code == 400 and "General service error" in errors_of(resp)[0]["description"]
    services.down("proxy")
    listing = await services.gateway.get(f"{V2}/requests.xml", headers=platform(tokens))
    assert listing.status_code == 400 and xml_of(listing).tag == "errors"


async def test_with_the_catalog_down_the_kept_catalogue_serves_marked_stale(services: Wired, tokens: Tokens) -> None:
    fresh = await services.gateway.get(f"{V2}/services.json", headers=platform(tokens))
    assert fresh.status_code == 200 and "doorstep-catalogue-stale-since" not in fresh.headers
    services.down("catalog")
    kept = await services.gateway.get(f"{V2}/services.json", headers=platform(tokens))
    assert kept.status_code == 200 and kept.json() == fresh.json()
    assert kept.headers["doorstep-catalogue-stale-since"]
    # The catalog can no longer check the caller: the gateway does (no catalog:read, no copy).
    blind = await services.gateway.get(f"{V2}/services.json", headers=platform(tokens, scopes=("demands:write",)))
    assert blind.status_code in (400, 403)


async def test_discovery_points_at_the_v2_endpoint(services: Wired, tokens: Tokens) -> None:
    resp = await services.gateway.get("/open311/discovery.json", headers=platform(tokens))
    assert resp.status_code == 200
    (endpoint,) = resp.json()["endpoints"]
    assert endpoint["url"].endswith("/open311/v2") and "text/xml" in endpoint["formats"]
    root = xml_of(await services.gateway.get("/open311/discovery.xml", headers=platform(tokens)))
    assert [f.text for f in root.iter("format")] == ["text/xml", "application/json"]
