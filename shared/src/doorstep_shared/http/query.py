"""Unknown query parameters are an error, not silently ignored.

``/leads?resident_id=…`` used to answer the whole list: a misspelt or unsupported filter looks
like it worked. :func:`reject_unknown_query` (a dependency ``create_service_app`` puts on every
route of every app) compares the request's query parameters with the ones the route declares
(its dependant tree, aliases included) and answers the same 422 problem a body with an extra
field gets: ``validation_failed`` with ``{"field": "query.<name>", "type": "extra_forbidden"}``.

A route that must accept parameters it does not declare (a protocol's, such as Open311's
``api_key``) says so on its route class: ``extra_query_parameters = frozenset({...})``.
Nothing else is allowed globally: no app reads ``request.query_params`` by hand.
"""

from __future__ import annotations

from fastapi import Request
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import BaseModel

# Query parameters every route accepts whether it declares them or not (none so far).
GLOBAL_QUERY_PARAMETERS: frozenset[str] = frozenset()

# Kept on the route object itself: routes compare by value (no hashing), and an id-keyed table
# would outlive the routes of the many apps a test process builds and drops.
_ATTRIBUTE = "_doorstep_query_parameters"


def declared_query_parameters(route: APIRoute) -> frozenset[str]:
    """The query parameter names ``route`` reads (computed once per route)."""
    names: frozenset[str] | None = getattr(route, _ATTRIBUTE, None)
    if names is None:
        extra: frozenset[str] = getattr(route, "extra_query_parameters", frozenset())
        names = frozenset(_query_names(route.dependant)) | extra | GLOBAL_QUERY_PARAMETERS
        setattr(route, _ATTRIBUTE, names)
    return names


def _query_names(dependant: Dependant) -> set[str]:
    """The query parameters of a dependant and its sub-dependencies; a parameter model
    (``Annotated[Filters, Query()]``) contributes its fields."""
    names: set[str] = set()
    for field in dependant.query_params:
        annotation = field.field_info.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            names.update(info.alias or name for name, info in annotation.model_fields.items())
        else:
            names.add(field.alias)
    for sub in dependant.dependencies:
        names |= _query_names(sub)
    return names


async def reject_unknown_query(request: Request) -> None:
    """422 naming every query parameter the route does not read."""
    if not request.scope.get("query_string"):
        return
    route = request.scope.get("route")
    if not isinstance(route, APIRoute):
        return
    known = declared_query_parameters(route)
    unknown = [name for name in dict.fromkeys(request.query_params.keys()) if name not in known]
    if unknown:
        raise RequestValidationError(
            [
                {"type": "extra_forbidden", "loc": ("query", name), "msg": "Unknown query parameter", "input": None}
                for name in unknown
            ]
        )
