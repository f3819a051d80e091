"""Problem responses in OpenAPI: one schema, one way for a route to declare what it may answer.

Every API operation (a path under ``/api/``) documents 401, 403, 422 and 503 by itself
(:func:`document_problems`, which ``create_service_app`` installs), so a route lists only the
problems it adds, with the default description or its own::

    @router.post("/items", responses=problems(409, 412, 428))
    @router.get("/items/{code}", responses={**NOT_MODIFIED, **problems(404)})
    @router.post("/items", responses=problems(404, described={409: "Conflict (duplicate code)"}))

Each entry is ``application/problem+json`` with the one ``Problem`` schema (what the error
handlers send), never FastAPI's ``application/json`` default.
"""

from __future__ import annotations

from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI

from .errors import PROBLEM_JSON

Responses = dict[int | str, dict[str, Any]]

PROBLEM_SCHEMA_REF = "#/components/schemas/Problem"
PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "title": "Problem",
    "description": "RFC 9457 problem details with a stable `code`",
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "code": {"type": "string"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "errors": {"type": "array", "items": {"type": "object"}},
    },
    "required": ["type", "title", "status", "code"],
    "additionalProperties": True,
}

DESCRIPTIONS: dict[int, str] = {
    400: "Bad request",
    401: "Missing, invalid or expired bearer token",
    403: "The caller lacks the permission this operation declares",
    404: "Not found (or another community's record)",
    409: "Conflict (a duplicate, or changed concurrently)",
    410: "Gone",
    412: "Stale If-Match: the resource changed since it was read",
    413: "Payload too large",
    422: "Invalid input; `errors` lists the offending fields",
    428: "If-Match missing",
    429: "Too many requests",
    503: "A dependency (database, another service) is unavailable; retry later",
}

# What every API operation can answer, whatever it declares.
COMMON_PROBLEMS = (401, 403, 422, 503)

# A conditional GET's 304 (no body, so not a problem): ``responses={**NOT_MODIFIED, **problems(404)}``.
NOT_MODIFIED: Responses = {304: {"description": "Not modified (If-None-Match matched)"}}


def problem_content() -> dict[str, Any]:
    """The ``content`` of a problem response: problem+json with the ``Problem`` schema."""
    return {PROBLEM_JSON: {"schema": {"$ref": PROBLEM_SCHEMA_REF}}}


def problems(*statuses: int, described: Mapping[int, str] | None = None) -> Responses:
    """OpenAPI ``responses=`` for the problems a route adds to the common ones: each of
    ``statuses`` with its default description, each of ``described`` with the one given."""
    texts = {status: DESCRIPTIONS.get(status) or HTTPStatus(status).phrase for status in statuses}
    texts.update(described or {})
    return {status: {"description": texts[status], "content": problem_content()} for status in sorted(texts)}


def document_problems(app: FastAPI) -> None:
    """Make the app's OpenAPI document the ``Problem`` schema and, on every API operation, the
    problems every API operation can answer (401, 403, 422, 503) as problem+json, which is
    what the error handlers send. A route's own entry for one of them keeps its description."""
    original = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = original()
        schema.setdefault("components", {}).setdefault("schemas", {}).setdefault("Problem", PROBLEM_SCHEMA)
        for path, item in schema.get("paths", {}).items():
            if not path.startswith("/api/"):
                continue
            for operation in item.values():
                if isinstance(operation, dict) and "responses" in operation:
                    _add_common_problems(operation["responses"])
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def _add_common_problems(responses: dict[str, Any]) -> None:
    for status in COMMON_PROBLEMS:
        code = str(status)
        entry = responses.setdefault(code, {"description": DESCRIPTIONS[status]})
        content = entry.get("content") or {}
        if code == "422" and "application/json" in content and PROBLEM_JSON not in content:
            del content["application/json"]  # FastAPI's default; we answer problem+json
        if PROBLEM_JSON not in content:
            content.update(problem_content())
        entry["content"] = content
