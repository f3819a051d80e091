"""Sparse responses: ``?fields=a,b,c`` on the lists a phone scrolls.

A list route declares ``fields: Annotated[Fields, Depends(sparse_fields(ItemModel))]``, answers
``response_model=Page[ItemModel] | SparsePage`` (so the document says what a trimmed page looks
like, and a client checking answers against it is never surprised) and ends with
``return sparse(page, fields)``. The parameter names the fields of one item (comma
separated); each item then carries only those and its ``id``; without the parameter the
answer is the full page. A name the item model does not have is a 422 naming ``query.fields``
(code ``unknown_field``, the unknown names in ``unknown``), so a typo never looks like an
empty field. The OpenAPI description of the parameter lists the names the route accepts.

The trimmed page is dumped through the item model itself (``model_dump(mode="json")``), so
masking and redaction that live in the model's serializers apply exactly as on a full page.
"""

# No ``from __future__ import annotations``: the dependency's parameter type is built per model
# at run time and FastAPI must see it as an object, not a string to resolve in this module.

from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from fastapi import Query
from pydantic import BaseModel

from .errors import Invalid
from .pagination import Page

T = TypeVar("T", bound=BaseModel)

Fields = frozenset[str] | None
ALWAYS = "id"
MAX_FIELDS_LENGTH = 1000


def sparse_fields(model: type[BaseModel]) -> Callable[..., Fields]:
    """A dependency reading ``?fields=`` against ``model``'s fields; ``None`` when absent."""
    names = tuple(model.model_fields)
    description = (
        "Only these fields of each item, comma separated (`id` always comes); without it, every "
        f"field. One of: {', '.join(f'`{n}`' for n in names)}. An unknown name is a 422."
    )

    def dependency(
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


class SparsePage(BaseModel):
    """A page answered with ``?fields=``: each item carries ``id`` and the fields asked for, as
    the full item would show them."""

    items: list[dict[str, Any]]
    next_cursor: str | None = None


def sparse(page: Page[T], fields: Fields) -> Page[T] | SparsePage:
    """``page`` as it is, or with each item trimmed to ``fields`` (already checked)."""
    if fields is None:
        return page
    items = [item.model_dump(mode="json", include=set(fields)) for item in page.items]
    return SparsePage(items=items, next_cursor=page.next_cursor)
