"""Open311 GeoReport v2 wire formats: XML (schemaless, UTF-8) and JSON, and the spec's error list.

Every Open311 route uses ``Open311Route``, which turns whatever goes wrong — a missing token, a
failed permission, bad input, an unreachable service — into the spec's error format
(``errors``/``error`` with ``code`` and ``description``) with the spec's HTTP status: 403 for
missing or insufficient credentials, 404 for what does not exist, 400 for everything else.
Never problem+json, never a 500 on these paths.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Coroutine, Mapping, Sequence
from typing import Any, Literal
from xml.etree import ElementTree as ET

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from doorstep_shared.http.errors import DoorstepError, Forbidden, Unauthorized

logger = logging.getLogger("doorstep.gateway.open311")

Format = Literal["json", "xml"]
JSON_TYPE = "application/json; charset=utf-8"
XML_TYPE = "text/xml; charset=utf-8"
XML_DECLARATION = '<?xml version="1.0" encoding="utf-8"?>\n'
# Element names of list members (the spec's "⇊" containers and their "↴" children).
LIST_CHILDREN = {
    "services": "service",
    "service_requests": "request",
    "errors": "error",
    "attributes": "attribute",
    "values": "value",
    "endpoints": "endpoint",
    "formats": "format",
}
# Characters XML 1.0 cannot carry at all (a control character in a description would break it).
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


class Open311Error(Exception):
    """One or more errors in the spec's format, with the HTTP status to answer."""

    def __init__(self, status: int, *descriptions: str, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(descriptions[0] if descriptions else "")
        self.status = status
        self.descriptions = list(descriptions) or ["General service error"]
        self.headers = dict(headers or {})  # e.g. Retry-After on a 429


class ErrorItem(BaseModel):
    code: int = Field(description="The HTTP status of the error")
    description: str


def format_of(request: Request) -> Format:
    """The format the client asked for by the resource's extension (XML, the spec's default, otherwise)."""
    return "json" if request.url.path.endswith(".json") else "xml"


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return _XML_INVALID.sub("", str(value))


def _fill(element: ET.Element, value: Any) -> None:
    if isinstance(value, Mapping):
        for key, inner in value.items():
            _append(element, str(key), inner)
    else:
        element.text = _text(value)


def _append(parent: ET.Element, name: str, value: Any) -> None:
    child = ET.SubElement(parent, name)
    if isinstance(value, list | tuple):
        member = LIST_CHILDREN.get(name, "item")
        for item in value:
            _fill(ET.SubElement(child, member), item)
    else:
        _fill(child, value)


def to_xml(root: str, content: Sequence[Any] | Mapping[str, Any]) -> bytes:
    """``content`` is a list (members named after ``root``) or a mapping (the root's children)."""
    element = ET.Element(root)
    if isinstance(content, Mapping):
        _fill(element, content)
    else:
        member = LIST_CHILDREN.get(root, "item")
        for item in content:
            _fill(ET.SubElement(element, member), item)
    return (XML_DECLARATION + ET.tostring(element, encoding="unicode")).encode()


def render(fmt: Format, root: str, content: Sequence[Any] | Mapping[str, Any], status: int = 200) -> Response:
    if fmt == "json":
        body = json.dumps(content, ensure_ascii=False, separators=(",", ":")).encode()
        return Response(body, status_code=status, media_type=JSON_TYPE)
    return Response(to_xml(root, content), status_code=status, media_type=XML_TYPE)


def render_errors(fmt: Format, status: int, descriptions: Sequence[str]) -> Response:
    items = [{"code": status, "description": d} for d in descriptions]
    return render(fmt, "errors", items, status)


def _validation_descriptions(exc: RequestValidationError) -> list[str]:
    out = []
    for error in exc.errors():
        loc = [str(part) for part in error.get("loc", ()) if part not in ("body", "query", "path", "header")]
        name = ".".join(loc) or "request"
        if name == "fmt":
            out.append("Unsupported format: use .xml or .json")
        else:
            out.append(f"{name}: {error.get('msg', 'invalid')}")
    return out or ["The request is invalid."]


def error_response(request: Request, exc: Exception) -> Response:
    """Any exception raised while answering an Open311 call, in the spec's error format."""
    fmt = format_of(request)
    if isinstance(exc, Open311Error):
        response = render_errors(fmt, exc.status, exc.descriptions)
        response.headers.update(exc.headers)
        return response
    if isinstance(exc, Unauthorized):
        return render_errors(fmt, 403, [f"Missing or invalid credentials (api key): {exc.detail}"])
    if isinstance(exc, Forbidden):
        return render_errors(fmt, 403, [f"Your credentials do not allow this call: {exc.detail}"])
    if isinstance(exc, DoorstepError):
        status = 404 if exc.status == 404 else 403 if exc.status in (401, 403) else 400
        return render_errors(fmt, status, [exc.detail or exc.title])
    if isinstance(exc, RequestValidationError):
        return render_errors(fmt, 400, _validation_descriptions(exc))
    if isinstance(exc, StarletteHTTPException):
        status = 404 if exc.status_code == 404 else 403 if exc.status_code in (401, 403) else 400
        return render_errors(fmt, status, [str(exc.detail)])
    logger.exception("open311 call failed unexpectedly")
    return render_errors(fmt, 400, ["General service error; please notify the county with the X-Request-ID."])


class Open311Route(APIRoute):
    """An APIRoute whose every failure, dependencies included, answers in Open311's error format."""

    # Open311 clients send the spec's api_key on any call; the bearer token plays its part, so
    # it is read nowhere, but it is no unknown parameter (doorstep_shared.http.query).
    extra_query_parameters = frozenset({"api_key"})

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def answer(request: Request) -> Response:
            try:
                return await handler(request)
            except Exception as exc:  # every failure becomes the spec's error list, never a 500
                return error_response(request, exc)

        return answer


def content(model: Any, description: str) -> dict[str, Any]:
    """An OpenAPI response entry: the JSON shape and the XML rendering of the same document."""
    return {
        "model": model,
        "description": description,
        "content": {"text/xml": {"schema": {"type": "string", "description": "The same document as XML"}}},
    }


ERRORS: dict[int | str, dict[str, Any]] = {
    400: content(list[ErrorItem], "Missing or invalid input, or a service failed (General service error)"),
    403: content(list[ErrorItem], "Missing or invalid credentials, or a missing scope"),
    404: content(list[ErrorItem], "Unknown jurisdiction_id, service_code or service_request_id"),
}
