"""Route dependencies and OpenAPI helpers shared by the proxy routers."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Header, Request
from pydantic import BaseModel, ConfigDict

from doorstep_shared.pii import PiiCipher
from doorstep_shared.security import require
from doorstep_shared.tokens import Principal


class Problem(BaseModel):
    """RFC 9457 problem details (extra members such as ``errors`` or ``existing`` may follow)."""

    model_config = ConfigDict(extra="allow")

    type: str
    title: str
    status: int
    code: str
    detail: str


PROBLEM: dict[str, Any] = {"model": Problem, "content": {"application/problem+json": {}}}


def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    return dict.fromkeys((401, 403, *statuses), PROBLEM)


def get_cipher(request: Request) -> PiiCipher:
    cipher: PiiCipher = request.app.state.pii
    return cipher


Cipher = Annotated[PiiCipher, Depends(get_cipher)]
IfMatch = Annotated[
    str | None,
    Header(alias="If-Match", max_length=200, description="The ETag you read; stale → 412"),
]


def permission(name: str) -> Any:
    return Annotated[Principal, Depends(require(name))]
