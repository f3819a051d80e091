"""Nothing an admin does through the API breaks the plumbing (issue 25).

A system of its own (four uvicorn processes, rate limits lifted) is fuzzed through the gateway's
merged document by schemathesis' stateful machine, holding a ``county.admin`` token: it follows
the links it infers (list → read → change) over every operation, writes included. Before that,
the incident itself is replayed (as ``county.security``, whose duty the client registry is): every
id ``GET /api/v1/clients`` lists is rotated 7 times and
revoked 14 times, and so is ``svc.proxy``. Then the window-case and doorstep stories must pass
end to end on the same system, the proxy must be reading a fresh catalogue, and /readyz must say
``ready`` everywhere.

It starts a system and runs for minutes: it runs in ``make fuzz`` (or with
``DOORSTEP_ADMIN_FUZZ=1``), not in the bounded suite. ``DOORSTEP_ADMIN_FUZZ_STEPS`` sets the
number of state-machine runs (default 30 in the bounded form, 200 in ``make fuzz``).
"""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, Phase, settings

from ..e2e import test_stories
from ..e2e.conftest import System, login, running_system
from ..e2e.test_faults import _merged_document as merged_document
from . import harness

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

ENABLED = harness.LONG_RUN or os.environ.get("DOORSTEP_ADMIN_FUZZ") == "1"
RUNS = int(os.environ.get("DOORSTEP_ADMIN_FUZZ_STEPS", 200 if harness.LONG_RUN else 30))
LIFTED = "1000000/minute"
STALE = "doorstep-catalogue-stale-since"


@pytest.fixture(scope="module")
def fuzzed_system(db_backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    if not ENABLED:
        pytest.skip("long: `make fuzz` runs it (or DOORSTEP_ADMIN_FUZZ=1)")
    lifted = {f"DOORSTEP_GATEWAY_RATE_LIMIT_{kind}": LIFTED for kind in ("TOKEN", "USER", "ANONYMOUS")}
    with running_system(db_backend, tmp_path_factory.mktemp(f"admin-fuzz-{db_backend}"), **lifted) as system:
        yield system


def replay_the_incident(system: System, security: dict[str, str]) -> Counter[int]:
    """The client registry is the security officer's (separation of duties, issue 20)."""
    statuses: Counter[int] = Counter()
    with httpx.Client(base_url=system.url(), headers=security, timeout=30) as clients:
        listed = clients.get("/api/v1/clients")
        assert listed.status_code == 200, listed.text
        ids = [c["client_id"] for c in listed.json()]
        assert not [i for i in ids if i.startswith("svc.")]
        for client_id in [*ids, "svc.proxy"]:
            for action, times in (("rotate-secret", 7), ("revoke", 14)):
                for _ in range(times):
                    r = clients.post(f"/api/v1/clients/{client_id}/{action}", json={"grace_seconds": 0})
                    statuses[r.status_code] += 1
                    if client_id.startswith("svc."):
                        assert r.status_code == 404, r.text
    return statuses


def stateful_fuzz(system: System, admin: dict[str, str]) -> Counter[int]:
    doc = merged_document(system)
    statuses: Counter[int] = Counter()
    machine = harness.load(doc).as_state_machine()

    class AdminMachine(machine):  # type: ignore[misc, valid-type]
        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            return {"base_url": system.url(), "headers": admin, "timeout": 30}

        def validate_response(self, response: Any, case: Any, **kwargs: Any) -> None:
            # The checks of every answer are the other fuzz suites' business; this one asks only
            # whether the system still works afterwards. 5xx are counted and printed.
            statuses[response.status_code] += 1

    # One example per run, each run with a fresh hypothesis tree: the system under test changes
    # with every step (that is the point), so a replayed prefix would not draw the same links and
    # hypothesis would call the strategy flaky. Every run is random; the count is what is bounded.
    for _ in range(RUNS):
        AdminMachine.run(
            settings=settings(
                max_examples=1,
                stateful_step_count=10,
                database=None,
                deadline=None,
                phases=[Phase.generate],
                suppress_health_check=list(HealthCheck),
                print_blob=False,
            )
        )
    return statuses


def test_after_an_admin_fuzzes_the_whole_api_the_stories_still_pass(fuzzed_system: System) -> None:
    system = fuzzed_system
    admin = {"Authorization": f"Bearer {login(system, 'county.admin')}"}
    started = time.monotonic()
    incident = replay_the_incident(system, {"Authorization": f"Bearer {login(system, 'county.security')}"})
    fuzzed = stateful_fuzz(system, admin)
    print(f"\n[admin fuzz] incident replay {dict(incident)}; stateful {dict(sorted(fuzzed.items()))}")
    print(f"[admin fuzz] {sum(fuzzed.values())} requests in {time.monotonic() - started:.0f} s")

    test_stories.test_window_story_cross_grid_case_and_offline_retry_creates_it_once(system)
    test_stories.test_doorstep_story_from_lead_to_closed_case(system)

    worker = {"Authorization": f"Bearer {login(system, 'chaoyang.worker')}"}
    leads = httpx.get(f"{system.url()}/api/v1/proxy/leads", headers=worker, timeout=30)
    assert leads.status_code == 200 and STALE not in leads.headers
    for app in ("gateway", "catalog", "proxy", "stations"):
        ready = httpx.get(f"{system.url(app)}/readyz", timeout=10).json()
        assert ready["status"] == "ready", (app, ready)
