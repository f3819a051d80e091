"""Every dependency of every API route is a coroutine (or an async generator): FastAPI runs a
plain ``def`` dependency in the thread pool, one hop per request per dependency — tens of
microseconds of CPU on every request for a function that only reads ``request.app.state``."""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.dependencies.models import Dependant

from doorstep_shared.auth.security import iter_api_routes
from doorstep_tools.apps import SERVICES


def _is_async(call: Any) -> bool:
    return (
        inspect.iscoroutinefunction(call)
        or inspect.isasyncgenfunction(call)
        or inspect.iscoroutinefunction(getattr(call, "__call__", None))  # noqa: B004 - callable objects
    )


def _sync_dependencies(dependant: Dependant) -> Iterator[str]:
    for sub in dependant.dependencies:
        if sub.call is not None and not _is_async(sub.call):
            yield f"{getattr(sub.call, '__module__', '?')}.{getattr(sub.call, '__qualname__', sub.call)}"
        yield from _sync_dependencies(sub)


@pytest.mark.parametrize("app_name", sorted(SERVICES))
def test_no_route_runs_a_dependency_in_the_thread_pool(app_name: str) -> None:
    module = importlib.import_module(f"{SERVICES[app_name]}.main")
    app = module.create_app()
    found = {name for route in iter_api_routes(app) for name in _sync_dependencies(route.dependant)}
    assert not found, f"sync dependencies (make them async def): {sorted(found)}"
