"""What every API input of the proxy shares: unknown fields are refused (422, so nobody can
mass-assign ``community`` or ``status``), and codes are lower-case slugs."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, StringConstraints

Code = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$", max_length=64)]


class Input(BaseModel):
    model_config = ConfigDict(extra="forbid")
