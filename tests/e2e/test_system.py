"""Issue 2 end to end: log in at the gateway, reach every service through it over real HTTP."""

from __future__ import annotations

import re
import time

import httpx

from .conftest import System, login


def test_a_worker_logs_in_and_reaches_each_service_through_the_gateway(system: System) -> None:
    token = login(system, "chaoyang.worker")
    headers = {"Authorization": f"Bearer {token}", "X-Request-ID": "e2e-req-1"}
    with httpx.Client(base_url=system.url(), headers=headers, timeout=10) as client:
        categories = client.get("/api/v1/catalog/categories")
        assert categories.status_code == 200, categories.text
        assert len(categories.json()) == 5
        assert categories.headers["x-request-id"] == "e2e-req-1"
        compounds = client.get("/api/v1/proxy/compounds")
        assert compounds.status_code == 200, compounds.text
        stations = client.get("/api/v1/stations/stations")
        assert stations.status_code == 200, stations.text
        me = client.get("/api/v1/auth/me")
        assert me.json()["subject"] == "chaoyang.worker"


def test_through_the_gateway_a_service_answer_is_compressed_once_and_problems_speak_the_callers_language(
    system: System,
) -> None:
    token = login(system, "chaoyang.worker")
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=system.url(), headers=headers, timeout=10) as client:
        plain = client.get("/api/v1/stations/stations", params={"limit": 100}, headers={"Accept-Encoding": "identity"})
        assert "content-encoding" not in plain.headers and len(plain.content) > 1024
        for codec in ("gzip", "br", "zstd"):
            packed = client.get("/api/v1/stations/stations", params={"limit": 100}, headers={"Accept-Encoding": codec})
            assert packed.headers["content-encoding"] == codec  # the service's, passed through as it is
            assert packed.num_bytes_downloaded < len(plain.content) / 3
            assert packed.json() == plain.json()  # decoded once: encoded once
        zh = client.get("/api/v1/stations/stations/nowhere")
        en = client.get("/api/v1/stations/stations/nowhere", headers={"Accept-Language": "en"})
        assert zh.status_code == en.status_code == 404
        assert zh.json()["code"] == en.json()["code"] == "station_not_found"
        assert (zh.headers["content-language"], en.headers["content-language"]) == ("zh-CN", "en")
        assert zh.json()["title"] == "服务站不存在" and en.json()["title"] == "Station not found"


def test_services_verify_tokens_themselves_with_the_gateways_keys(system: System) -> None:
    token = login(system, "chaoyang.worker")
    direct = httpx.get(
        f"{system.url('catalog')}/api/v1/catalog/categories",
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert direct.status_code == 200
    forged = httpx.get(
        f"{system.url('catalog')}/api/v1/catalog/categories",
        headers={"Authorization": "Bearer x.y.z"},
        timeout=10,
    )
    assert forged.status_code == 401
    assert forged.headers["content-type"] == "application/problem+json"


def test_merged_openapi_lists_operations_of_all_three_services(system: System) -> None:
    doc = httpx.get(f"{system.url()}/openapi.json", timeout=10).json()
    paths = doc["paths"]
    for prefix in ("/api/v1/auth/", "/api/v1/catalog/", "/api/v1/proxy/", "/api/v1/stations/"):
        assert any(p.startswith(prefix) for p in paths), prefix
    op_ids = [
        op["operationId"]
        for item in paths.values()
        for op in item.values()
        if isinstance(op, dict) and "operationId" in op
    ]
    assert len(op_ids) == len(set(op_ids))
    # Readable ids (<service>_<resource>_<action>), names that are titles, two security schemes,
    # tags grouped per service, the gateway's 429 declared with Retry-After.
    assert all(re.fullmatch(r"(gateway|catalog|proxy|stations)_[a-z0-9_]+", i) for i in op_ids), op_ids
    assert sum(map(len, op_ids)) / len(op_ids) < 30
    assert all(s["title"] == name for name, s in doc["components"]["schemas"].items())
    # OAuth2's password flow, and a pasted bearer token (staff with two factors: README)
    assert set(doc["components"]["securitySchemes"]) == {"OAuth2", "BearerToken"}
    assert [g["name"] for g in doc["x-tagGroups"]] == ["gateway", "catalog", "proxy", "stations"]
    create = doc["paths"]["/api/v1/proxy/cases"]["post"]
    assert any(p["name"] == "Idempotency-Key" and p["in"] == "header" for p in create["parameters"])
    assert "Retry-After" in create["responses"]["429"]["headers"]
    assert doc["components"]["securitySchemes"]["OAuth2"]["flows"]["password"]["tokenUrl"] == "/api/v1/auth/token"
    assert "x-unavailable" not in doc
    docs = httpx.get(f"{system.url()}/docs", timeout=10)
    assert docs.status_code == 200 and "swagger" in docs.text.lower()


def test_a_stopped_service_gives_503_promptly_and_recovers_when_back(system: System) -> None:
    token = login(system, "chaoyang.worker")
    headers = {"Authorization": f"Bearer {token}"}
    system.stop("stations")
    try:
        started = time.monotonic()
        resp = httpx.get(f"{system.url()}/api/v1/stations/stations", headers=headers, timeout=10)
        assert resp.status_code == 503
        assert resp.headers["content-type"] == "application/problem+json"
        assert time.monotonic() - started < 3
        other = httpx.get(f"{system.url()}/api/v1/catalog/categories", headers=headers, timeout=10)
        assert other.status_code == 200
    finally:
        system.start("stations")
    deadline = time.monotonic() + 15
    while True:
        resp = httpx.get(f"{system.url()}/api/v1/stations/stations", headers=headers, timeout=10)
        if resp.status_code == 200 or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert resp.status_code == 200


def test_readiness_reports_database_and_migrations(system: System) -> None:
    for app in ("gateway", "catalog", "proxy", "stations"):
        resp = httpx.get(f"{system.url(app)}/readyz", timeout=10)
        assert resp.status_code == 200, (app, resp.text)
        assert resp.json()["status"] == "ready"


def test_a_resident_opens_a_published_sheet_through_the_gateway_without_a_token(system: System) -> None:
    with httpx.Client(base_url=system.url(), timeout=10) as client:
        sheet = client.get("/api/v1/catalog/items/elderly-allowance/sheet", params={"print": "large"})
        assert sheet.status_code == 200, sheet.text
        assert sheet.headers["content-type"].startswith("text/html")
        assert "<h1>高龄补贴</h1>" in sheet.text and "<svg" in sheet.text
        assert "default-src 'none'" in sheet.headers["content-security-policy"]
        assert client.get("/api/v1/catalog/items/elderly-allowance").status_code == 401
