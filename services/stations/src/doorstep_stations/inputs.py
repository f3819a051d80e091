"""The building blocks of stations' request bodies: inputs forbid unknown fields; codes, names,
instants and days are bounded."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field

from doorstep_shared.periods import YEARS

MIN_YEAR, MAX_YEAR = YEARS


def _instant_in_range(value: dt.datetime) -> dt.datetime:
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        raise ValueError(f"must be between {MIN_YEAR} and {MAX_YEAR}")
    return value


def _day_in_range(value: dt.date) -> dt.date:
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        raise ValueError(f"must be between {MIN_YEAR} and {MAX_YEAR}")
    return value


Instant = Annotated[AwareDatetime, AfterValidator(_instant_in_range)]
Day = Annotated[dt.date, AfterValidator(_day_in_range)]

Code = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9_-]*$")]
Username = Annotated[str, Field(min_length=1, max_length=100)]


class Input(BaseModel):
    """Every request body: unknown fields are refused."""

    model_config = ConfigDict(extra="forbid")
