"""The gateway's documented request examples, sent as they are, get their documented answers: the
token form's examples log the demo worker and the demo platform client in (on `make run` too: the
password and secret are the demo ones),
revoke takes the refresh token it gave, and the client examples register and rotate a client
(tests/test_request_examples.py checks that every example validates)."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import FastAPI

from doorstep_gateway.clients.schemas import ClientCreate, RotateSecret

from ..request_examples import example_of
from ..support import Tokens


def _form_example(app: FastAPI, path: str, fields: tuple[str, ...]) -> dict[str, Any]:
    """The first documented example of each of these form fields."""
    doc = app.openapi()
    ref = doc["paths"][path]["post"]["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"]["$ref"]
    properties = doc["components"]["schemas"][ref.rsplit("/", 1)[-1]]["properties"]
    return {name: properties[name]["examples"][0] for name in fields}


async def test_token_form_example_logs_in_and_revoke_example_ends_the_login(
    gateway: httpx.AsyncClient, gateway_app: FastAPI
) -> None:
    form = _form_example(gateway_app, "/api/v1/auth/token", ("grant_type", "username", "password"))
    assert form["grant_type"] == "password"
    login = await gateway.post("/api/v1/auth/token", data=form)
    assert login.status_code == 200, login.text
    revoke = _form_example(gateway_app, "/api/v1/auth/revoke", ("token_type_hint",))
    resp = await gateway.post("/api/v1/auth/revoke", data={**revoke, "token": login.json()["refresh_token"]})
    assert resp.status_code == 200, resp.text


async def test_client_examples_register_a_client_and_rotate_its_secret(
    gateway: httpx.AsyncClient, tokens: Tokens
) -> None:
    admin = tokens.headers("security_officer", community=None, subject="county.security")
    created = await gateway.post("/api/v1/clients", json=example_of(ClientCreate), headers=admin)
    assert created.status_code == 201, created.text
    client_id = created.json()["client_id"]
    rotated = await gateway.post(
        f"/api/v1/clients/{client_id}/rotate-secret", json=example_of(RotateSecret), headers=admin
    )
    assert rotated.status_code == 200, rotated.text
    assert rotated.json()["client_secret"] != created.json()["client_secret"]


async def test_token_form_examples_of_a_machine_client_get_it_a_token(
    gateway: httpx.AsyncClient, gateway_app: FastAPI
) -> None:
    form = _form_example(gateway_app, "/api/v1/auth/token", ("client_id", "client_secret", "scope"))
    resp = await gateway.post("/api/v1/auth/token", data={**form, "grant_type": "client_credentials"})
    assert resp.status_code == 200, resp.text
    assert set(resp.json()["scope"].split()) == set(form["scope"].split())
