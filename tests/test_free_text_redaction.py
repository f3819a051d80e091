"""Every free-text field a response of any app declares masks phone and ID numbers (#17 §5).

The fields come from each app's OpenAPI document: every string property of every schema a
response reaches, with no enum, format or pattern. Each one is either typed ``RedactedText``
(the document says ``x-redacted``) or named below as not free text, with the reason. A new
field must take a side; a field marked redacted is also checked to mask what people type.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from doorstep_catalog.config import CatalogSettings
from doorstep_catalog.main import create_app as catalog_app
from doorstep_gateway.config import GatewaySettings
from doorstep_gateway.main import create_app as gateway_app
from doorstep_proxy.config import ProxySettings
from doorstep_proxy.main import create_app as proxy_app
from doorstep_shared.auth.tokens import SigningKey
from doorstep_stations.config import StationsSettings
from doorstep_stations.main import create_app as stations_app

# Not free text about a person, by field name (in any response of any app).
NOT_FREE_TEXT = {
    # identifiers, codes, enum-like words, references and cursors the services make
    *("id", "code", "county", "from_county", "community", "grid", "compound", "item_code", "service_code"),
    *("station_code", "group"),
    *("next_cursor", "cursor", "kind", "type", "status", "category", "channel", "scope", "form", "fact"),
    *("request_id", "subject_id", "subject_type", "action", "outcome", "hash", "actor", "actor_kind", "owner"),
    *("event_id", "event_type", "resource", "key", "datatype", "from_status", "to_status", "case_status", "number"),
    *("case_ref", "external_ref", "source_client", "department_ref", "service_request_id", "address_id"),
    *("account_id", "client_id", "token_type", "matched_field", "field", "column", "due_basis", "timezone"),
    *("claim_code", "employment_status", "disability_type", "resident_id", "zipcode", "keywords"),
    *("requested_datetime", "updated_datetime", "expected_datetime", "changeset", "key_service", "issuer"),
    # the user names of staff and clients
    *("username", "display_name", "worker", "author", "created_by", "changed_by", "updated_by", "accepted_by"),
    *("assigned_to", "assigned_grid", "answered_by", "logged_by", "status_by", "started_by", "surveyed_by"),
    *("booked_by", "received_by", "collected_by", "recipient", "subject"),
    # structured personal data: masked by their own rules, or the reveal answer itself (audited)
    *("phone", "phone_masked", "contact_phone_masked", "id_number", "id_number_masked", "name_masked"),
    *("disability_certificate_no", "disability_certificate_masked", "contact_name", "resident_name", "name"),
    *("building", "unit", "room", "address"),
    # the catalogue and the stations as admins publish them (public hotlines belong there)
    *("title", "summary", "conditions", "contact", "department", "audience", "basis"),
    *("question", "label", "item_name", "category_name", "service_name", "station_name"),
    *("specification", "datatype_description", "service_notice", "agency_responsible", "media_url", "url"),
    # machine text: problem details, validation messages, errors, secrets shown once
    *("detail", "instance", "msg", "message", "error", "last_error", "secret", "client_secret"),
    *("access_token", "refresh_token", "activation_code", "api_key", "api_key_id"),
}
# Names that are free text in one schema and not in another: decided one by one.
NOT_FREE_TEXT_IN = {
    # a login history: a refusal's reason code, the address, the kind of second factor, the door (via)
    *(("gateway", "LoginRecord", f) for f in ("reason", "address", "second_factor", "via")),
    # a staff member's own device labels (their client sends them) and addresses, shown to them and
    # to the admin of their account: about the staff member's sign-ins, never about a resident
    *(("gateway", "SessionRead", f) for f in ("device_id", "device_name", "first_address", "last_address")),
    # the caller's own new TOTP secret as a URI and its QR code, made by the gateway (no one's words)
    *(("gateway", "MfaEnrolment", "otpauth_uri"), ("gateway", "MfaEnrolment", "qr_svg")),
    # the catalogue as admins publish it
    *(("catalog", "Faq", "answer"), ("catalog", "Material", "notes"), ("catalog", "CategoryRead", "description")),
    *(("proxy", "SnapshotMaterial", "notes"), ("proxy", "LeadMaterialRead", "notes")),
    ("proxy", "SnapshotMaterial", "evidence"),  # the catalogue's word for what a material needs ("photo")
    # a material's or a visit's file: the type found in its content, links the proxy made, the
    # uploader's user name
    *(
        ("proxy", model, f)
        for model in ("CaseFileRead", "VisitFileRead")
        for f in ("content_type", "uploaded_by", "content_url", "thumbnail_url")
    ),
    *(("stations", "ServiceRead", "description"), ("stations", "StationRead", "description")),
    ("stations", "StationHit", "description"),
    # the services' own words: event catalogues, chain verification, the rule a lead matched
    *(("proxy", "WebhookEventTypeRead", "description"), ("stations", "WebhookEventTypeRead", "description")),
    # the directory: a county's code, a revision hash
    *(("gateway", "CommunityRead", "county"), ("gateway", "ImportReport", "revision")),
    # a batch operation's answer headers, as the route made them (its body is the route's own answer)
    *(("proxy", "OperationResult", "etag"), ("proxy", "OperationResult", "location")),
    *(
        ("catalog", "VerifyResult", "reason"),
        ("proxy", "VerifyResult", "reason"),
        ("gateway", "VerifyResult", "reason"),
    ),
    ("proxy", "LeadRead", "reason"),
    ("proxy", "LeadReadFields", "reason"),  # the same lead trimmed by ?fields= (doorstep_shared.http.sparse)
    # search: the id of a search, the item an alias went to, and the service names and states of
    # the dashboard's degraded list (the query and the alias are RedactedText)
    *(("catalog", "ItemPage", "search_id"), ("catalog", "AliasAdded", "item")),
    *(("gateway", "DegradedService", "service"), ("gateway", "DegradedService", "state")),
    # webhook subscriptions: a label the county gives a partner's endpoint
    *(("proxy", "WebhookSubscriptionRead", "description"), ("proxy", "WebhookSubscriptionCreated", "description")),
    ("stations", "WebhookSubscriptionRead", "description"),
    ("stations", "WebhookSubscriptionCreated", "description"),
    # Open311 service definitions (from the catalogue) and its error texts
    *(("gateway", "ServiceOut", "description"), ("gateway", "AttributeOut", "description")),
    ("gateway", "ErrorItem", "description"),
    # opening-hours exceptions ("春节闭站"), published to residents
    ("stations", "HoursExceptionRead", "reason"),
}
# Free text someone types about a resident: must be redacted wherever the name is reused.
MUST_REDACT = {
    ("proxy", "DemandRead", "text"),
    ("proxy", "DemandRead", "answer"),
    ("proxy", "VisitRead", "notes"),
    ("proxy", "CaseRead", "note"),
    ("proxy", "CaseEventRead", "note"),
    ("proxy", "RevealAuditRead", "reason"),
    ("catalog", "TipRead", "body"),
    ("stations", "TicketRead", "item"),
    ("stations", "TicketRead", "request"),
    ("stations", "TicketCreated", "request"),
    ("stations", "SessionRead", "cancel_reason"),
}


def documents() -> dict[str, dict[str, Any]]:
    var = Path("/nonexistent-doorstep-redaction")
    return {
        "catalog": catalog_app(CatalogSettings(environment="test", var_dir=var)).openapi(),
        "proxy": proxy_app(ProxySettings(environment="test", var_dir=var)).openapi(),
        "stations": stations_app(StationsSettings(environment="test", var_dir=var)).openapi(),
        "gateway": gateway_app(
            GatewaySettings(environment="test", var_dir=var), signing_key=SigningKey.generate("doc")
        ).openapi(),
    }


def response_schemas(doc: dict[str, Any]) -> set[str]:
    """The component schemas some response reaches (through any depth of ``$ref``)."""
    seen: set[str] = set()
    stack: list[Any] = [op.get("responses", {}) for item in doc["paths"].values() for op in item.values()]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            ref = node.get("$ref", "")
            if ref.startswith("#/components/schemas/") and (name := ref.rsplit("/", 1)[1]) not in seen:
                seen.add(name)
                stack.append(doc["components"]["schemas"][name])
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return seen


def free_text(prop: dict[str, Any]) -> dict[str, Any] | None:
    """The string member of a property when it is open text (no enum, format, pattern or const)."""
    for member in prop.get("anyOf", [prop]):
        if member.get("type") == "string" and not {"enum", "format", "pattern", "const"} & set(member):
            return member
    return None


def fields() -> Iterator[tuple[str, str, str, dict[str, Any]]]:
    for app, doc in documents().items():
        for schema in sorted(response_schemas(doc)):
            for name, prop in doc["components"]["schemas"][schema].get("properties", {}).items():
                member = free_text(prop)
                if member is not None:
                    yield app, schema, name, member


@functools.cache
def all_fields() -> list[tuple[str, str, str, dict[str, Any]]]:
    """Built on first use, not at collection (four apps' documents take seconds)."""
    return list(fields())


def test_the_documents_declare_free_text_responses() -> None:
    assert len(all_fields()) > 300
    found = {(app, schema, name) for app, schema, name, _ in all_fields()}
    assert found >= MUST_REDACT, MUST_REDACT - found


def test_every_free_text_response_field_is_redacted_or_named_as_not_free_text() -> None:
    undecided = sorted(
        f"{app} {schema}.{name}"
        for app, schema, name, member in all_fields()
        if not member.get("x-redacted") and name not in NOT_FREE_TEXT and (app, schema, name) not in NOT_FREE_TEXT_IN
    )
    assert undecided == [], f"type these RedactedText or add them to NOT_FREE_TEXT with a reason: {undecided}"


@pytest.mark.parametrize("field", sorted(MUST_REDACT), ids=lambda f: ".".join(f))
def test_free_text_about_residents_is_redacted(field: tuple[str, str, str]) -> None:
    members = [member for app, schema, name, member in all_fields() if (app, schema, name) == field]
    assert members and all(m.get("x-redacted") for m in members), field
