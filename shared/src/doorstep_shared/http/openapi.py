"""The OpenAPI document as client generators read it.

- Operation ids are ``<service>_<resource>_<action>`` (``catalog_items_list``,
  ``proxy_cases_transition``) instead of FastAPI's path-and-method defaults: readable, stable when
  a path gains a parameter, and unique (the app refuses to start its document otherwise).
- Every component schema's ``title`` is its component name: generators name models by title, so
  two schemas titled ``MaterialRead`` became one model and the other's operations lost their types.
- Headers and statuses that middleware adds (``Idempotency-Key``, ``Retry-After`` on 429/503) are
  declared on the operations they apply to: a middleware class documents itself through a
  ``document_openapi(doc, **options)`` class method, called with the options it was installed with.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute

from .problems import problem_content

API_PREFIX = "/api/v1/"
METHODS = ("get", "put", "post", "delete", "patch", "head", "options")
_WORD = re.compile(r"[a-z0-9]+")


def _singular(word: str) -> str:
    if word.endswith("ies"):
        return word[:-3] + "y"
    if word.endswith(("ses", "xes")):
        return word[:-2]
    return word[:-1] if word.endswith("s") else word


def operation_ids(service: str) -> Callable[[APIRoute], str]:
    """FastAPI's ``generate_unique_id_function`` for one app."""

    def operation_id(route: APIRoute) -> str:
        path = route.path_format
        segments = [s for s in path.removeprefix(API_PREFIX).split("/") if s and not s.startswith("{")]
        if path.startswith(API_PREFIX) and segments[:1] == [service]:
            segments = segments[1:]
        words = _WORD.findall((segments[0] if segments else "root").lower())
        forms = {form for w in words for form in (w, _singular(w))}
        action = [w for w in _WORD.findall(route.name.lower()) if w not in forms]
        if not action:
            action = [sorted(route.methods)[0].lower()] if route.methods else []
        return "_".join([service, *words, *action])

    return operation_id


def operations(doc: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in doc.get("paths", {}).items():
        for method, op in item.items():
            if method in METHODS and isinstance(op, dict):
                yield path, method, op


def titles_are_names(doc: dict[str, Any]) -> None:
    for name, schema in doc.get("components", {}).get("schemas", {}).items():
        if isinstance(schema, dict):
            schema["title"] = name


def declare_header(op: dict[str, Any], name: str, description: str, *, schema: dict[str, Any] | None = None) -> None:
    parameters: list[dict[str, Any]] = op.setdefault("parameters", [])
    if any(p.get("in") == "header" and p.get("name", "").lower() == name.lower() for p in parameters):
        return
    parameters.append(
        {
            "name": name,
            "in": "header",
            "required": False,
            "description": description,
            "schema": schema or {"type": "string"},
        }
    )


def declare_response(op: dict[str, Any], status: int, description: str, *, retry_after: bool = False) -> None:
    responses: dict[str, Any] = op.setdefault("responses", {})
    answer = responses.setdefault(str(status), {"description": description, "content": problem_content()})
    if retry_after:
        answer.setdefault("headers", {})["Retry-After"] = {
            "description": "Seconds to wait before trying again",
            "schema": {"type": "integer"},
        }


def check_unique_operation_ids(doc: dict[str, Any]) -> None:
    seen: dict[str, str] = {}
    for path, method, op in operations(doc):
        op_id = op.get("operationId")
        if op_id is None:
            continue
        if op_id in seen:
            raise ValueError(f"operation id {op_id!r} of {method.upper()} {path} is also {seen[op_id]}")
        seen[op_id] = f"{method.upper()} {path}"


def document_for_generators(
    app: FastAPI,
    middleware: list[tuple[Any, dict[str, Any]]],
    hooks: Iterable[Callable[[dict[str, Any]], None]] = (),
) -> None:
    """Wrap ``app.openapi``: middleware documents itself, then ``hooks`` edit the document,
    titles are names, ids are unique."""
    original = app.openapi
    done = False

    def openapi() -> dict[str, Any]:
        nonlocal done
        doc = original()
        if not done:
            for middleware_class, options in middleware:
                hook = getattr(middleware_class, "document_openapi", None)
                if hook is not None:
                    hook(doc, **options)
            for edit in hooks:
                edit(doc)
            titles_are_names(doc)
            check_unique_operation_ids(doc)
            done = True
        return doc

    app.openapi = openapi  # type: ignore[method-assign]
