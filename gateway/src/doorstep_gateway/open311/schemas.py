"""Open311 shapes as documented in OpenAPI (JSON; the XML rendering carries the same elements)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from doorstep_shared.types import RedactedText

from .mapping import ATTRIBUTE_VALUE_MAX, POST_FIELDS


class ServiceOut(BaseModel):
    service_code: str
    service_name: str
    description: str
    metadata: bool
    type: str
    keywords: str
    group: str


class ValueOut(BaseModel):
    key: str
    name: str


class AttributeOut(BaseModel):
    variable: bool
    code: str
    datatype: str
    required: bool
    datatype_description: str | None
    order: int
    description: str
    values: list[ValueOut] | None = None


class ServiceDefinitionOut(BaseModel):
    service_code: str
    attributes: list[AttributeOut]


class CreatedOut(BaseModel):
    service_request_id: str
    service_notice: str | None
    account_id: str | None


class RequestOut(BaseModel):
    service_request_id: str
    status: str
    status_notes: RedactedText | None
    service_name: str | None
    service_code: str | None
    description: RedactedText | None
    agency_responsible: str | None
    service_notice: str | None
    requested_datetime: str
    updated_datetime: str
    expected_datetime: str | None
    address: str | None
    address_id: str | None
    zipcode: str | None
    lat: float | None
    long: float | None
    media_url: str | None


class EndpointOut(BaseModel):
    specification: str
    url: str
    changeset: str
    type: str
    formats: list[str]


class DiscoveryOut(BaseModel):
    changeset: str
    contact: str
    key_service: str
    endpoints: list[EndpointOut]


POST_BODY_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["service_code"],
    "properties": {
        **{name: {"type": "string", "maxLength": limit} for name, limit in POST_FIELDS.items()},
        "lat": {"type": "number", "minimum": -90, "maximum": 90},
        "long": {"type": "number", "minimum": -180, "maximum": 180},
    },
    "additionalProperties": {"type": "string", "maxLength": ATTRIBUTE_VALUE_MAX},
    "description": "The spec's fields; attributes as attribute[code]=value (attribute[code][]=value for lists)",
}

# The spec's example with this county's values (docs/open311.md); form-encoded, attributes are
# "attribute[code]" fields. tests/test_request_examples.py checks it against POST_BODY_SCHEMA.
POST_BODY_EXAMPLE: dict[str, Any] = {
    "service_code": "elderly-allowance",
    "lat": 31.7134,
    "long": 118.3652,
    "address_string": "滨江花园6栋502",
    "account_id": "123456",
    "first_name": "明",
    "last_name": "王",
    "phone": "13800138000",
    "description": "为父亲申请高龄补贴",
    "attribute[material_1]": "ready",
}
