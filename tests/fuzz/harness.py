"""Schemathesis driven from plain pytest: one test per (service, operation), bounded and seeded.

Each operation gets a Hypothesis run mixing schema-valid (positive) and schema-violating
(negative) requests, sent in-process through schemathesis' ASGI transport (the app's lifespan
runs in schemathesis' event-loop thread), authenticated with real RS256 tokens as a community
admin and as a social worker of 朝阳社区. Every response must pass the checks below.

``DOORSTEP_FUZZ_EXAMPLES`` sets the examples per operation (default: the bounded CI run).

A fuzz run proves something only about requests that got past the doors in front of the logic,
so every run tallies which responses came from a handler (:func:`reached_handler`) and the
session prints, per app, how many operations the fuzzer reached (``-s`` shows it). Rate limits
are lifted for these runs (tests/fuzz/conftest.py, tests/e2e/conftest.py): a 429 fails a run.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from ..support import Tokens

CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance, content_type_conformance]
DEFAULT_EXAMPLES = 10
EXAMPLES = int(os.environ.get("DOORSTEP_FUZZ_EXAMPLES", DEFAULT_EXAMPLES))
LONG_RUN = EXAMPLES > DEFAULT_EXAMPLES
# Through the real system (tests/e2e/test_faults.py) every example is a real HTTP round trip.
MERGED_EXAMPLES = EXAMPLES if LONG_RUN else 3
# Operations outside the business API (liveness/readiness answer 503 by design when the DB is down).
SKIP_PATHS = frozenset({"/healthz", "/readyz"})


# Headers that frame the message: the HTTP client sets them, and the server refuses malformed framing
# before any app sees it (uvicorn: 400 "Invalid HTTP request received."), so no operation documents
# that 400. Hypothesis draws header names from string literals in our own modules too (its "local
# constants"), which is how a negative case once sent an empty ``Content-Length`` on a GET.
FRAMING_HEADERS = frozenset({"content-length", "transfer-encoding", "host", "connection", "te", "upgrade", "expect"})


def drop_framing_headers(case: schemathesis.Case[Any]) -> None:
    for name in [name for name in case.headers or {} if name.lower() in FRAMING_HEADERS]:
        del case.headers[name]


# Responses that never reached an operation's handler: no or a weak token, the rate limiter, a
# request FastAPI refused while parsing it (``validation_failed``).
DOORS = frozenset({401, 403, 405, 429})


def reached_handler(status: int, body: Any) -> bool:
    if status in DOORS:
        return False
    return not (status == 422 and isinstance(body, dict) and body.get("code") == "validation_failed")


@dataclass
class Tally:
    """What one operation's run got back."""

    statuses: Counter[int] = field(default_factory=Counter)
    reached: int = 0  # responses that came from the handler


# (app, operation label) → tally, for the session summary (tests/fuzz/conftest.py).
TALLIES: dict[tuple[str, str], Tally] = {}


def summary() -> list[str]:
    by_app: dict[str, list[Tally]] = {}
    for (app, _), tally in TALLIES.items():
        by_app.setdefault(app, []).append(tally)
    return [
        f"fuzz {app}: {sum(t.reached > 0 for t in tallies)} of {len(tallies)} operations reached their handler; "
        f"{sum(t.statuses[429] for t in tallies)} responses were 429"
        for app, tallies in sorted(by_app.items())
    ]


def identities(tokens: Tokens) -> dict[str, Callable[[], dict[str, str]]]:
    """Who the fuzzer acts as: minted per operation so a long run never outlives a token."""
    return {
        "admin": lambda: tokens.headers("community_admin", community="chaoyang", subject="chaoyang.admin"),
        "worker": lambda: tokens.headers(
            "social_worker", community="chaoyang", grid="chaoyang-g6", subject="chaoyang.worker"
        ),
    }


@dataclass(frozen=True)
class Operation:
    method: str
    path: str

    @property
    def label(self) -> str:
        return f"{self.method} {self.path}"


def openapi_of(factory: Callable[..., Any], settings_cls: type, **kwargs: Any) -> dict[str, Any]:
    """An app's OpenAPI document, built without a database (collection time)."""
    app = factory(settings_cls(environment="test", var_dir=Path("/nonexistent-doorstep-fuzz")), **kwargs)
    doc: dict[str, Any] = app.openapi()
    return doc


def operations(doc: dict[str, Any]) -> list[Operation]:
    out = []
    for path, item in doc["paths"].items():
        if path in SKIP_PATHS:
            continue
        for method in item:
            if method in {"get", "put", "post", "patch", "delete"}:
                out.append(Operation(method.upper(), path))
    return out


def params(ops: Iterable[Operation], known_failures: dict[str, str]) -> list[Any]:
    """pytest params, the known failures (owner must fix) marked strict xfail with their reason."""
    out = []
    for op in ops:
        reason = known_failures.get(op.label)
        marks = [pytest.mark.xfail(reason=reason, strict=True)] if reason else []
        out.append(pytest.param(op, id=op.label, marks=marks))
    unknown = set(known_failures) - {op.label for op in ops}
    assert not unknown, f"known failures name operations that do not exist: {unknown}"
    return out


def load(doc: dict[str, Any]) -> schemathesis.BaseSchema:
    return schemathesis.openapi.from_dict(doc)


def fuzz(
    schema: schemathesis.BaseSchema,
    op: Operation,
    *,
    app: Any = None,
    base_url: str | None = None,
    headers_of: dict[str, Callable[[], dict[str, str]]],
    examples: int = EXAMPLES,
    timeout: float = 10.0,
    app_name: str = "",
) -> Tally:
    """Fuzz one operation: positive and negative cases, each as every identity; all checks must pass.
    Never a 429: the limiter is lifted for fuzzing, so one means the logic went untested."""
    operation = schema[op.path][op.method]
    strategies = [operation.as_strategy(GenerationMode.POSITIVE)]
    try:
        negative = operation.as_strategy(GenerationMode.NEGATIVE)
    except Exception:  # some operations have nothing that can be made invalid
        negative = None
    if negative is not None:
        strategies.append(negative)
    headers = {who: make() for who, make in headers_of.items()}
    tally = TALLIES.setdefault((app_name, op.label), Tally())
    call_kwargs: dict[str, Any] = {"timeout": timeout}
    if app is not None:
        call_kwargs["app"] = app

    @settings(
        max_examples=examples,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate, *([Phase.shrink] if LONG_RUN else [])],
        suppress_health_check=list(HealthCheck),
        print_blob=False,
    )
    @given(case=st.one_of(*strategies), who=st.sampled_from(sorted(headers)))
    def run(case: schemathesis.Case[Any], who: str) -> None:
        sent = headers[who]
        drop_framing_headers(case)
        response = case.call(base_url=base_url, headers=sent, **call_kwargs)
        tally.statuses[response.status_code] += 1
        try:
            body = response.json()
        except ValueError:
            body = None
        tally.reached += reached_handler(response.status_code, body)
        assert response.status_code != 429, f"{op.label}: rate-limited while fuzzing"
        case.validate_response(response, checks=CHECKS, headers=sent)

    run()
    return tally
