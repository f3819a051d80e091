"""The merged OpenAPI document as an integrator uses it: generate a Python client with
openapi-python-client (no warning: nothing dropped, every response typed) and run the window
story through that generated client over real HTTP, through the gateway."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from .conftest import System, login

GENERATOR = Path(sys.executable).parent / "openapi-python-client"


def generate(system: System, where: Path) -> tuple[str, Any]:
    (where / "openapi.json").write_bytes(httpx.get(f"{system.url()}/openapi.json", timeout=30).content)
    (where / "config.yaml").write_text("package_name_override: doorstep_client\npost_hooks: []\n")
    result = subprocess.run(  # noqa: S603 (our own venv's generator, fixed arguments)
        [
            str(GENERATOR),
            "generate",
            "--path",
            str(where / "openapi.json"),
            "--output-path",
            str(where / "doorstep_client"),
            "--meta",
            "none",
            "--config",
            str(where / "config.yaml"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    sys.path.insert(0, str(where))
    return result.stdout + result.stderr, result


@pytest.mark.parametrize("db_backend", ["sqlite"], indirect=True)  # one document, whatever the database
def test_a_generated_python_client_has_no_warnings_and_runs_the_window_story(system: System, tmp_path: Path) -> None:
    output, result = generate(system, tmp_path)
    assert result.returncode == 0, output
    assert "Warning" not in output and "Unable" not in output, output
    try:
        client_module = importlib.import_module("doorstep_client")
        token_op = importlib.import_module("doorstep_client.api.auth.gateway_auth_token")
        search = importlib.import_module("doorstep_client.api.residents.proxy_residents_search")
        create = importlib.import_module("doorstep_client.api.cases.proxy_cases_create_case")
        get_case = importlib.import_module("doorstep_client.api.cases.proxy_cases_get_case")
        models = importlib.import_module("doorstep_client.models")

        form = models.BodyGatewayAuthToken(grant_type="password", username="chaoyang.worker", password="x")
        with client_module.Client(base_url=system.url()) as anonymous:
            refused = token_op.sync_detailed(client=anonymous, body=form)
        assert refused.status_code == 400 and isinstance(refused.parsed, models.Problem)  # errors are typed too
        assert refused.parsed.code == "invalid_grant"

        token = login(system, "chaoyang.worker")
        with client_module.AuthenticatedClient(base_url=system.url(), token=token) as worker:
            story(worker, create, get_case, search, models)
    finally:
        sys.path.remove(str(tmp_path))
        for name in [m for m in sys.modules if m == "doorstep_client" or m.startswith("doorstep_client.")]:
            del sys.modules[name]


def story(worker: Any, create: Any, get_case: Any, search: Any, models: Any) -> None:
    """The window story: a case for a resident of another grid, retried offline, created once."""
    page = search.sync(client=worker, grid="chaoyang-g2", limit=50)
    resident = next(r for r in page.items if r.grid == "chaoyang-g2")
    case_id = uuid.uuid4()
    key = f"phone-gen-{case_id}"
    for item in ("elderly-allowance", "senior-preferential-card", "medical-insurance-enrolment"):
        body = models.CaseCreate.from_dict(
            {"id": str(case_id), "resident_id": str(resident.id), "item_code": item, "channel": "window"}
        )
        for _attempt in range(5):  # as a phone does: the same key again after a timeout, done once
            first = create.sync_detailed(client=worker, body=body, idempotency_key=f"{key}-{item}")
            if first.status_code not in (502, 503, 504):
                break
        if first.status_code != 409:  # the seeded register may hold an open case for this item
            break
    assert first.status_code == 201, first.content
    created = first.parsed
    assert isinstance(created, models.CaseRead)
    assert created.accepted_by == "chaoyang.worker" and created.grid == "chaoyang-g2"
    replay = create.sync_detailed(client=worker, body=body, idempotency_key=f"{key}-{item}")
    assert replay.status_code == 201 and replay.headers.get("idempotent-replayed") == "true"
    read = get_case.sync(client=worker, case_id=case_id)
    assert isinstance(read, models.CaseRead) and read.id == created.id and read.channel == "window"


TYPESCRIPT = Path(__file__).resolve().parents[2] / "tools" / "typescript"


@pytest.mark.parametrize("db_backend", ["sqlite"], indirect=True)
def test_typescript_types_generated_from_the_openapi_type_check_a_field_app_script(system: System) -> None:
    """openapi-typescript on the merged document, then tsc on a small field-app script (the app's
    developers write TypeScript); a script with a wrong field type must fail, so the types are real."""
    bin_dir = TYPESCRIPT / "node_modules" / ".bin"
    if not (bin_dir / "tsc").exists():
        if os.environ.get("DOORSTEP_TEST_REQUIRE_TYPESCRIPT"):
            pytest.fail("tools/typescript/node_modules is missing: `make test` installs it with npm")
        pytest.skip("npm is not installed here: `make test` installs tools/typescript with npm where it is")
    build = TYPESCRIPT / "build"
    build.mkdir(exist_ok=True)
    (build / "openapi.json").write_bytes(httpx.get(f"{system.url()}/openapi.json", timeout=30).content)

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(  # noqa: S603 (the project's own pinned tools, fixed arguments)
            list(args), cwd=TYPESCRIPT, capture_output=True, text=True, timeout=180, check=False
        )

    generated = run(
        str(bin_dir / "openapi-typescript"),
        "build/openapi.json",
        "-o",
        "build/doorstep.d.ts",
        "--default-non-nullable",
        "false",
    )
    assert generated.returncode == 0, generated.stdout + generated.stderr
    checked = run(str(bin_dir / "tsc"), "-p", "tsconfig.json")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    wrong = run(
        str(bin_dir / "tsc"), "--noEmit", "--strict", "--module", "ES2022", "--moduleResolution", "bundler", "wrong.ts"
    )
    assert wrong.returncode != 0 and "wrong.ts(7," in wrong.stdout, wrong.stdout
