"""The catalog process stops: the proxy keeps serving leads and intake of known items from its
last good catalogue, says so (stale header, /readyz, metrics, one log line), survives its own
restart during the outage, and recovers by itself when the catalog is back. Real processes.

tests/gateway/test_catalogue_outage.py is the same outage over ten minutes of moved time.
"""

from __future__ import annotations

import time
import uuid

import httpx
import pytest

from .conftest import System, login
from .test_stories import run_discovery

pytestmark = pytest.mark.e2e

STALE = "doorstep-catalogue-stale-since"
CHANGE = "dependency catalog: ok -> degraded"


def at_proxy(system: System, username: str) -> httpx.Client:
    """Straight to the proxy (its degraded answers are the subject; a proxy busy with the
    discovery pass it starts after a restart may take longer than the gateway's 5 s)."""
    token = login(system, username)
    return httpx.Client(base_url=system.url("proxy"), headers={"Authorization": f"Bearer {token}"}, timeout=120)


def leads(client: httpx.Client) -> httpx.Response:
    response = client.get("/api/v1/proxy/leads", params={"grid": "chaoyang-g6", "limit": 5})
    assert response.status_code == 200, response.text
    return response


def until(check: object, within: float = 60.0) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if check():  # type: ignore[operator]
            return
        time.sleep(0.2)
    raise AssertionError(f"not within {within} s")


def intake_known_item(client: httpx.Client) -> httpx.Response:
    residents = client.get("/api/v1/proxy/residents", params={"grid": "chaoyang-g3", "limit": 50}).json()["items"]
    for resident in residents:
        for item in ("elderly-allowance", "senior-preferential-card", "pension-face-check"):
            body = {"id": str(uuid.uuid4()), "resident_id": resident["id"], "item_code": item, "channel": "window"}
            response = client.post("/api/v1/proxy/cases", json=body)
            if response.status_code != 409:  # an open case for this pair already: try another
                return response
    raise AssertionError("no resident without an open case")


def test_a_stopped_catalog_leaves_leads_and_intake_working_stale_and_recovery_needs_nothing(system: System) -> None:
    proxy = system.url("proxy")
    log = system.log_dir / "proxy.log"
    seen = log.stat().st_size
    with at_proxy(system, "chaoyang.worker") as client:
        assert STALE not in leads(client).headers
        try:
            system.stop("catalog")
            until(lambda: STALE in leads(client).headers)  # the next revalidation fails
            for _ in range(10):
                assert STALE in leads(client).headers
            case = intake_known_item(client)
            assert case.status_code == 201, case.text
            assert STALE in case.headers
            ready = httpx.get(f"{proxy}/readyz", timeout=30)
            assert ready.status_code == 200 and ready.json()["status"] == "degraded"
            assert 'doorstep_dependency_up{dependency="catalog"} 0.0' in httpx.get(f"{proxy}/metrics", timeout=30).text
            gateway = httpx.get(f"{system.url()}/readyz", timeout=30).json()
            assert gateway["status"] == "degraded"
            assert gateway["dependencies"]["catalog"]["state"] == "unavailable"
            until(
                lambda: (
                    httpx.get(f"{system.url()}/readyz", timeout=30).json()["dependencies"]["proxy"]["state"]
                    == "degraded"
                )
            )

            # The proxy restarts during the outage: it still has the copy (from its database).
            system.stop("proxy")
            system.start("proxy")
            assert STALE in leads(client).headers
        finally:
            if "catalog" not in system.procs:
                system.start("catalog")
        until(lambda: STALE not in leads(client).headers)
        until(lambda: httpx.get(f"{proxy}/readyz", timeout=30).json()["status"] == "ready")
    with at_proxy(system, "county.admin") as admin:
        admin.base_url = httpx.URL(f"{proxy}/api/v1/proxy")
        run_discovery(admin)  # the restarted proxy's own first pass, done: the system as we found it
    with log.open("rb") as fh:
        fh.seek(seen)
        proxy_log = fh.read().decode(errors="replace")
    # One line per proxy process that saw the outage (the first and the restarted one), never
    # one per request: a dozen requests were answered from the stale copy.
    assert 1 <= proxy_log.count(CHANGE) <= 2
