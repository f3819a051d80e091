"""Every request body of every app carries an example in its OpenAPI document, and every example
validates against the body's own type, so an example cannot rot (issue #21: none of the bodies had
one, and Swagger UI's form-filled eligibility body answered 422). Most are also sent, and get
their documented answers: tests/{gateway,catalog,proxy,stations}/test_request_examples.py."""

from __future__ import annotations

import importlib
from functools import cache
from typing import Annotated, Any

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from pydantic import TypeAdapter

from doorstep_gateway.docs.merge import merge
from doorstep_shared.auth.security import iter_api_routes
from doorstep_tools.apps import SERVICES

FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")


@cache
def _app(name: str) -> FastAPI:
    app: FastAPI = importlib.import_module(f"{SERVICES[name]}.main").create_app()
    return app


@cache
def _doc(name: str) -> dict[str, Any]:
    return _app(name).openapi()


def _bodies() -> list[Any]:
    found = []
    for name in SERVICES:
        for route in iter_api_routes(_app(name)):
            documented = (route.openapi_extra or {}).get("requestBody")
            if route.body_field is None and documented is None:
                continue
            for method in sorted(route.methods):
                found.append(pytest.param(name, route, method, id=f"{name} {method} {route.path}"))
    return found


BODIES = _bodies()


def _resolve(doc: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    return doc["components"]["schemas"][ref.rsplit("/", 1)[-1]] if ref else schema


def _examples(doc: dict[str, Any], media: dict[str, Any]) -> list[Any]:
    """The media type's example(s) and those of its schema (or of the schemas of a union)."""
    found: list[Any] = [media["example"]] if "example" in media else []
    found += [e["value"] for e in media.get("examples", {}).values() if "value" in e]
    schema = media.get("schema", {})
    for member in [schema, *schema.get("anyOf", []), *schema.get("oneOf", [])]:
        found += _resolve(doc, member).get("examples", [])
    return found


def _conforms(value: Any, schema: dict[str, Any]) -> bool:
    """The little of JSON Schema a hand-written body schema uses: type, bounds, maxLength."""
    if schema.get("type") == "number":
        lo, hi = schema.get("minimum", float("-inf")), schema.get("maximum", float("inf"))
        return isinstance(value, int | float) and not isinstance(value, bool) and lo <= value <= hi
    if schema.get("type") == "string":
        return isinstance(value, str) and len(value) <= schema.get("maxLength", len(value))
    return False


def test_the_apps_have_the_bodies_issue_21_counted() -> None:
    assert len(BODIES) >= 55


@pytest.mark.parametrize(("app", "route", "method"), BODIES)
def test_every_request_body_documents_an_example_that_validates(app: str, route: APIRoute, method: str) -> None:
    doc = _doc(app)
    content = doc["paths"][route.path_format][method.lower()]["requestBody"]["content"]
    if route.body_field is None:  # a hand-written body (Open311): the example against its schema
        for media in content.values():
            if media["schema"].get("format") == "binary":  # raw bytes (a file's chunk): a string shows them
                assert isinstance(media.get("example"), str), f"no example for {media}"
                continue
            example, schema = media.get("example"), media["schema"]
            assert isinstance(example, dict), f"no example for {media}"
            assert set(schema.get("required", ())) <= set(example)
            for key, value in example.items():
                assert _conforms(value, schema["properties"].get(key, schema["additionalProperties"])), key
        return
    form = next((m for m in FORMS if m in content), None)
    if form is not None:  # form fields: each one carries an example that its own type accepts
        properties = _resolve(doc, content[form]["schema"])["properties"]
        for param in route.dependant.body_params:
            shown = properties[param.alias]
            assert shown.get("examples"), f"form field {param.alias} has no example"
            if "contentMediaType" not in shown and shown.get("format") != "binary":  # a file's is its name
                field = param.field_info
                typed: Any = Annotated[field.annotation, *field.metadata] if field.metadata else field.annotation
                adapter: TypeAdapter[Any] = TypeAdapter(typed)
                for example in shown["examples"]:
                    adapter.validate_python(example)
        return
    examples = _examples(doc, content["application/json"])
    assert examples, f"{method} {route.path}: the body has no example"
    body_type: Any = route.body_field.field_info.annotation
    adapter = TypeAdapter(body_type)
    for example in examples:
        assert adapter.validate_python(example) is not None


def test_the_gateways_merged_document_keeps_an_example_on_every_body() -> None:
    """What clients generate from and Swagger UI fills forms with: the gateway's /openapi.json."""
    merged = merge(_doc("gateway"), {name: _doc(name) for name in SERVICES if name != "gateway"})
    bodies = 0
    for path, item in merged["paths"].items():
        for method, operation in item.items():
            if not isinstance(operation, dict):
                continue
            for kind, media in operation.get("requestBody", {}).get("content", {}).items():
                bodies += 1
                properties = _resolve(merged, media.get("schema", {})).get("properties", {})
                forms_shown = kind in FORMS and all(p.get("examples") for p in properties.values())
                assert _examples(merged, media) or forms_shown, f"{method} {path} ({kind}) shows no example"
    assert bodies >= len(BODIES)
