"""One way to document problem responses: a route lists what it adds, the app adds the rest."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from doorstep_shared.http.errors import PROBLEM_JSON
from doorstep_shared.http.problems import (
    NOT_MODIFIED,
    PROBLEM_SCHEMA,
    PROBLEM_SCHEMA_REF,
    document_problems,
    problems,
)

PROBLEM = {PROBLEM_JSON: {"schema": {"$ref": PROBLEM_SCHEMA_REF}}}


def test_problems_lists_each_status_as_problem_json_with_its_description() -> None:
    assert problems(404, 409) == {
        404: {"description": "Not found (or another community's record)", "content": PROBLEM},
        409: {"description": "Conflict (a duplicate, or changed concurrently)", "content": PROBLEM},
    }
    described = problems(404, described={409: "Conflict (duplicate code)", 418: "Teapot"})
    assert [(k, v["description"]) for k, v in described.items()] == [
        (404, "Not found (or another community's record)"),
        (409, "Conflict (duplicate code)"),
        (418, "Teapot"),
    ]
    assert problems(507)[507]["description"] == "Insufficient Storage"


def app_with_routes() -> FastAPI:
    app = FastAPI()

    @app.get("/api/v1/things/{code}", responses={**NOT_MODIFIED, **problems(404)})
    async def read(code: str) -> dict[str, str]:
        return {"code": code}

    @app.post("/api/v1/things", responses=problems(described={403: "Not a manager of this thing"}))
    async def create() -> dict[str, str]:
        return {}

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    document_problems(app)
    return app


def test_every_api_operation_documents_the_common_problems_once() -> None:
    doc: dict[str, Any] = app_with_routes().openapi()
    assert doc["components"]["schemas"]["Problem"] == PROBLEM_SCHEMA
    read = doc["paths"]["/api/v1/things/{code}"]["get"]["responses"]
    assert set(read) == {"200", "304", "401", "403", "404", "422", "503"}
    assert "content" not in read["304"]
    for status in ("401", "403", "404", "422", "503"):
        assert read[status]["content"] == PROBLEM, status  # FastAPI's application/json 422 is gone
    create = doc["paths"]["/api/v1/things"]["post"]["responses"]
    assert create["403"]["description"] == "Not a manager of this thing"
    assert create["401"]["description"] == "Missing, invalid or expired bearer token"
    assert set(doc["paths"]["/healthz"]["get"]["responses"]) == {"200"}
