"""The documented example of a request body model, for tests that send it."""

from __future__ import annotations

import copy
from typing import Any

from pydantic import BaseModel


def example_of(model: type[BaseModel]) -> dict[str, Any]:
    """The model's first OpenAPI example (a copy: a test may change it)."""
    extra = model.model_config.get("json_schema_extra")
    assert isinstance(extra, dict), f"{model.__name__} has no examples"
    examples = extra["examples"]
    assert isinstance(examples, list) and examples, f"{model.__name__} has no examples"
    first = copy.deepcopy(examples[0])
    assert isinstance(first, dict)
    return first
