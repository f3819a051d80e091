"""Field types several services share, validated exactly as their OpenAPI schema documents them."""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, GetJsonSchemaHandler, PlainSerializer, WithJsonSchema
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

from .pii import redact_text

_LOCAL_TIME = r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]{1,6})?)?$"
_LOCAL_TIME_RE = re.compile(_LOCAL_TIME)
_LOCAL_TIME_HINT = "must be a local time HH:MM[:SS[.ffffff]] without an offset, e.g. 09:30"


def _documented_shape(value: Any) -> Any:
    """Refuse what the pattern refuses (an offset, seven fraction digits, a number of seconds)
    before pydantic's laxer time parsing would accept or misread it; ``dt.time`` values built
    by the services themselves pass through."""
    if isinstance(value, dt.time):
        return value
    if isinstance(value, str) and _LOCAL_TIME_RE.fullmatch(value):
        return value
    raise ValueError(_LOCAL_TIME_HINT)


def _wall_clock(value: dt.time) -> dt.time:
    """A local time is read on the community's clock: an offset would be stored nowhere, and
    comparing it with the stored (naive) times would fail."""
    if value.tzinfo is not None:
        raise ValueError(_LOCAL_TIME_HINT)
    return value


# Documented as what it is, HH:MM[:SS[.ffffff]] on the local clock: JSON Schema's format "time"
# is RFC 3339's full-time, which requires an offset, so "09:30:00" would not conform to it.
# A naive dt.time serialises as HH:MM:SS[.ffffff], so reads conform to the same pattern.
LocalTime = Annotated[
    dt.time,
    BeforeValidator(_documented_shape),
    AfterValidator(_wall_clock),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": _LOCAL_TIME,
            "description": "Local time (Asia/Shanghai), HH:MM or HH:MM:SS, without an offset",
            "examples": ["09:30"],
        }
    ),
]


class _MarkedRedacted:
    """Says in the OpenAPI document that a field is masked on the way out (tests check every
    free-text field of every response carries it, or is listed as not free text)."""

    def __get_pydantic_json_schema__(self, core: CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        schema = handler(core)
        schema["x-redacted"] = True
        return schema


# Free text a person typed (a demand, a visit note, a tip, a reason): stored as typed, every phone
# and ID number in it masked whenever it is serialised — responses, exports, webhook payloads.
RedactedText = Annotated[str, PlainSerializer(redact_text, return_type=str), _MarkedRedacted()]
