"""The batch request and its per-operation results."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from ..inputs import Input

MAX_OPERATIONS = 100
MAX_PATH = 500

Method = Literal["GET", "POST", "PUT", "PATCH", "DELETE"]
# Visible ASCII and spaces: what these headers hold on the wire (no line breaks to smuggle).
HeaderValue = Annotated[str, StringConstraints(min_length=1, max_length=255, pattern=r"^[\x20-\x7e]+$")]


class OperationHeaders(Input):
    """The only headers an operation carries itself; Authorization and Accept-Language are the batch's."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    idempotency_key: HeaderValue | None = Field(None, alias="Idempotency-Key")
    if_match: HeaderValue | None = Field(None, alias="If-Match")
    if_none_match: HeaderValue | None = Field(None, alias="If-None-Match")


class Operation(Input):
    method: Method
    path: Annotated[str, StringConstraints(min_length=1, max_length=MAX_PATH)] = Field(
        description="A proxy path with its query, e.g. `/api/v1/proxy/cases/{id}/transitions`"
    )
    headers: OperationHeaders = Field(default_factory=OperationHeaders)
    body: Any = Field(None, description="The JSON body (omitted or null: none)")


class BatchRequest(Input):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "operations": [
                        {
                            "method": "POST",
                            "path": "/api/v1/proxy/cases",
                            "headers": {"Idempotency-Key": "phone-1-4b9f0c3e-case"},
                            "body": {
                                "id": "4b9f0c3e-5d1a-4c2e-9f7b-2a6d8e1c3b50",
                                "resident_id": "0f1e2d3c-4b5a-4968-8776-655443322110",
                                "item_code": "elderly-allowance",
                                "channel": "doorstep",
                            },
                        },
                        {"method": "GET", "path": "/api/v1/proxy/my/day"},
                    ]
                }
            ]
        }
    )

    operations: list[Operation] = Field(min_length=1, max_length=MAX_OPERATIONS)
    atomic: bool = Field(
        False,
        description="All-or-nothing is not offered: `true` answers 422 `atomic_unsupported` (CASES.md says why)",
    )


class OperationResult(BaseModel):
    status: int
    etag: str | None = None
    location: str | None = None
    replayed: bool = Field(False, description="The answer is an Idempotency-Key replay")
    body: Any = None


class BatchResult(BaseModel):
    results: list[OperationResult]
