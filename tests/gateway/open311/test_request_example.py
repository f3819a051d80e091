"""The documented Open311 POST body (its OpenAPI example, both media types) creates a request."""

from __future__ import annotations

from doorstep_gateway.open311.schemas import POST_BODY_EXAMPLE

from ...support import Tokens
from ..service_apps import Wired, service_apps_fixture, services_fixture  # noqa: F401 (fixtures)
from .test_open311 import V2, platform


async def test_the_documented_example_creates_a_request_as_a_form_and_as_json(services: Wired, tokens: Tokens) -> None:
    form = {key: str(value) for key, value in POST_BODY_EXAMPLE.items()}
    as_form = await services.gateway.post(f"{V2}/requests.json", data=form, headers=platform(tokens))
    assert as_form.status_code == 201, as_form.text
    as_json = await services.gateway.post(f"{V2}/requests.json", json=POST_BODY_EXAMPLE, headers=platform(tokens))
    assert as_json.status_code == 201, as_json.text
    assert as_json.json()[0]["account_id"] == POST_BODY_EXAMPLE["account_id"]
