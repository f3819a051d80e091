"""What every API input of the proxy shares: unknown fields are refused (422, so nobody can
mass-assign ``community`` or ``status``), codes are lower-case slugs, and the years a ``from``/``to``
day may fall in."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, StringConstraints

# Wider than the shared default: the ledger's dates reach back to residents born in the 1900s.
YEARS = (1900, 2199)

Code = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$", max_length=64)]


class Input(BaseModel):
    model_config = ConfigDict(extra="forbid")
