"""The building blocks of catalog request bodies: every body refuses unknown fields and control
characters; codes and names have one format."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, StringConstraints, field_validator

Code = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{1,63}$", max_length=64)]
Name = Annotated[str, StringConstraints(min_length=1, max_length=100, strip_whitespace=True)]

_CONTROL = frozenset(chr(c) for c in (*range(0x20), 0x7F)) - {"\n", "\r", "\t"}


def _has_control(value: Any) -> bool:
    if isinstance(value, str):
        return not _CONTROL.isdisjoint(value)
    if isinstance(value, list | tuple):
        return any(_has_control(v) for v in value)
    if isinstance(value, dict):
        return any(_has_control(k) or _has_control(v) for k, v in value.items())
    return False


class Input(BaseModel):
    """Every request body: unknown fields refused; no control characters (NUL and friends) in
    any string, so nothing the database would reject gets that far."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="after")
    @classmethod
    def _printable(cls, value: Any) -> Any:
        if _has_control(value):
            raise ValueError("control characters are not allowed")
        return value
