"""The harness itself: what it changes in a generated case before sending it."""

from __future__ import annotations

from . import harness

DOC = {
    "openapi": "3.1.0",
    "info": {"title": "t", "version": "1"},
    "paths": {"/things": {"get": {"responses": {"200": {"description": "ok"}}}}},
}


def test_framing_headers_are_left_to_the_http_client() -> None:
    operation = harness.load(DOC)["/things"]["GET"]
    case = operation.Case(
        headers={"Content-Length": "", "l5": "", "Transfer-Encoding": "chunked", "If-None-Match": "x"}
    )
    harness.drop_framing_headers(case)
    assert dict(case.headers) == {"l5": "", "If-None-Match": "x"}
