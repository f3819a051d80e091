"""Sparse responses: ``?fields=a,b,c`` on the lists a phone scrolls.

A list route declares ``fields: Annotated[Fields, Depends(sparse_fields(ItemModel))]``, answers
``response_model=sparse_page(ItemModel)`` (the full page or ``Page[ItemModelFields]``, the item
with every field but ``id`` optional, so a trimmed answer conforms to the document and a
generated client reads it) and ends with
``return sparse(page, fields)``. The parameter names the fields of one item (comma
separated); each item then carries only those and its ``id``; without the parameter the
answer is the full page. A name the item model does not have is a 422 naming ``query.fields``
(code ``unknown_field``, the unknown names in ``unknown``), so a typo never looks like an
empty field. The OpenAPI description of the parameter lists the names the route accepts.

The trimmed page is dumped through the item model itself (``model_dump(mode="json")``), so
masking and redaction that live in the model's serializers apply exactly as on a full page.

A hot list may skip the models altogether (``json_page``): its items are plain dicts already
in the item model's shape (its fields, in its order, values already masked and redacted), and
``pydantic_core.to_json`` writes them as the response model would, with no per-item
validation. The route still declares ``response_model=sparse_page(ItemModel)`` for the document.
"""

# No ``from __future__ import annotations``: the dependency's parameter type is built per model
# at run time and FastAPI must see it as an object, not a string to resolve in this module.

from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar

from fastapi import Query
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field, create_model
from pydantic_core import to_json

from .errors import Invalid
from .pagination import Page

T = TypeVar("T", bound=BaseModel)

Fields = frozenset[str] | None
ALWAYS = "id"
MAX_FIELDS_LENGTH = 1000


def sparse_fields(model: type[BaseModel]) -> Callable[..., Awaitable[Fields]]:
    """A dependency reading ``?fields=`` against ``model``'s fields; ``None`` when absent."""
    names = tuple(model.model_fields)
    description = (
        "Only these fields of each item, comma separated (`id` always comes); without it, every "
        f"field. One of: {', '.join(f'`{n}`' for n in names)}. An unknown name is a 422."
    )

    async def dependency(  # async: a plain def would run in the thread pool on every request
        fields: Annotated[str | None, Query(max_length=MAX_FIELDS_LENGTH, description=description)] = None,
    ) -> Fields:
        if fields is None:
            return None
        wanted = [name.strip() for name in fields.split(",") if name.strip()]
        unknown = [name for name in dict.fromkeys(wanted) if name not in model.model_fields]
        if unknown:
            raise Invalid.field(
                "query.fields", "not a field of the list's items", code="unknown_field", unknown=unknown
            )
        return frozenset({ALWAYS, *wanted} & set(names))

    return dependency


_TRIMMED: dict[type[BaseModel], type[BaseModel]] = {}


def _no_defaults(schema: dict[str, Any]) -> None:
    """An absent field is absent, not null: the trimmed item's document shows no defaults."""
    for prop in schema.get("properties", {}).values():
        prop.pop("default", None)


def trimmed(model: type[BaseModel]) -> type[BaseModel]:
    """``model`` with every field but ``id`` optional (same types, same masking marks): the item
    of a page answered with ``?fields=``, named ``<Model>Fields`` in the document."""
    found = _TRIMMED.get(model)
    if found is None:
        fields: dict[str, Any] = {}
        for name, info in model.model_fields.items():
            annotation = Annotated[(info.annotation, *info.metadata)] if info.metadata else info.annotation
            fields[name] = (annotation, Field(... if name == ALWAYS else None, description=info.description))
        found = create_model(
            f"{model.__name__}Fields",
            __config__=ConfigDict(json_schema_extra=_no_defaults),
            __doc__=f"{model.__name__} trimmed by `?fields=`: `id` and the fields asked for.",
            **fields,
        )
        _TRIMMED[model] = found
    return found


def sparse_page(model: type[BaseModel]) -> Any:
    """The response model of a list taking ``?fields=``: the full page or the trimmed one."""
    full: Any = Page[model]  # type: ignore[valid-type]
    return full | Page[trimmed(model)]  # type: ignore[misc]


def sparse(page: Page[T], fields: Fields) -> Page[T] | JSONResponse:
    """``page`` as it is, or with each item trimmed to ``fields`` (already checked), dumped by
    the item model itself so its masking applies."""
    if fields is None:
        return page
    items = [item.model_dump(mode="json", include=set(fields)) for item in page.items]
    return JSONResponse({"items": items, "next_cursor": page.next_cursor})


def json_page(items: list[dict[str, Any]], next_cursor: str | None, fields: Fields) -> Response:
    """A page of items already in the item model's shape, trimmed to ``fields`` (already
    checked) and written as JSON once: the bytes ``sparse`` would answer, without building and
    validating a model per item."""
    if fields is not None:
        items = [{name: value for name, value in item.items() if name in fields} for item in items]
    return json_response({"items": items, "next_cursor": next_cursor})


def json_response(content: Any, headers: dict[str, str] | None = None) -> Response:
    """``content`` (plain dicts and lists of JSON-able values: str, numbers, UUIDs, dates) as the
    JSON bytes a response model would write for the same values."""
    return Response(to_json(content), media_type="application/json", headers=headers)
