"""Service identities: a service's own Ed25519 tokens, verified by the called service with keys
from its configuration; rotation trusts the old and the new key during the overlap."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import jwt
import pytest
import time_machine

from doorstep_shared.auth.service_keys import (
    ServiceCredentials,
    ServiceKey,
    ServiceTrust,
    dev_service_key,
    service_trust,
)
from doorstep_shared.auth.tokens import KeySet, Principal, SigningKey, TokenSigner, TokenVerifier
from doorstep_shared.clock import utcnow
from doorstep_shared.http.errors import Unauthorized

ISSUER, AUDIENCE = "doorstep-gateway", "doorstep"


def verifier_of(trust: ServiceTrust) -> TokenVerifier:
    return TokenVerifier(KeySet(keys={}), issuer=ISSUER, audience=AUDIENCE, services=trust)


def verifier_trusting(*keys: ServiceKey, audience: str = "catalog") -> TokenVerifier:
    return verifier_of(ServiceTrust.from_config(audience, ",".join(k.public_config() for k in keys)))


async def test_a_service_token_grants_what_the_receiver_grants_and_nothing_else() -> None:
    key = ServiceKey.generate("proxy")
    principal = await verifier_trusting(key).verify(ServiceCredentials(key).token("catalog"))
    assert principal.subject == "svc.proxy" and principal.kind == "client"
    assert principal.permissions == frozenset({"catalog:read"})
    assert principal.visible_communities is None  # the catalogue is county-wide


async def test_old_and_new_service_keys_verify_during_the_overlap_and_old_fails_after_retirement() -> None:
    old, new = ServiceKey.generate("proxy", "proxy-2026a"), ServiceKey.generate("proxy", "proxy-2026b")
    old_token, new_token = ServiceCredentials(old).token("catalog"), ServiceCredentials(new).token("catalog")
    # Step 2: the catalog trusts both; step 3: the proxy signs with the new one.
    both = verifier_trusting(old, new)
    assert (await both.verify(old_token)).subject == "svc.proxy"
    assert (await both.verify(new_token)).subject == "svc.proxy"
    # Step 4: the old key is retired.
    retired = verifier_trusting(new)
    assert (await retired.verify(new_token)).subject == "svc.proxy"
    with pytest.raises(Unauthorized, match="unknown key"):
        await retired.verify(old_token)


async def test_a_service_token_for_another_service_or_too_long_lived_or_unsigned_is_refused() -> None:
    key = ServiceKey.generate("proxy")
    with pytest.raises(Unauthorized):
        await verifier_trusting(key, audience="stations").verify(ServiceCredentials(key).token("catalog"))
    with pytest.raises(Unauthorized):
        await verifier_trusting(key).verify(ServiceCredentials(key, ttl=3600).token("catalog"))
    claims = jwt.decode(ServiceCredentials(key).token("catalog"), options={"verify_signature": False})
    forged = jwt.encode(claims, "k" * 32, algorithm="HS256", headers={"kid": key.kid})
    with pytest.raises(Unauthorized):
        await verifier_trusting(key).verify(forged)
    other = ServiceKey.generate("proxy", key.kid)  # same kid, another key: the signature fails
    with pytest.raises(Unauthorized):
        await verifier_trusting(key).verify(ServiceCredentials(other).token("catalog"))


async def test_a_service_key_cannot_pass_for_the_gateways_tokens_and_gateway_tokens_still_verify() -> None:
    gateway_key = SigningKey.generate("gw-1")
    key = ServiceKey.generate("proxy")
    trust = ServiceTrust.from_config("catalog", key.public_config())
    verifier = TokenVerifier(
        KeySet(keys={gateway_key.kid: gateway_key.private_key.public_key()}),
        issuer=ISSUER,
        audience=AUDIENCE,
        services=trust,
    )
    signer = TokenSigner(gateway_key, issuer=ISSUER, audience=AUDIENCE, access_ttl=600, refresh_ttl=600)
    user = Principal(subject="u", kind="user", name="u", roles=frozenset({"social_worker"}))
    assert (await verifier.verify(signer.access_token(user)[0])).subject == "u"
    # A service token whose header claims the gateway's algorithm goes to the gateway's keys: refused.
    claims = jwt.decode(ServiceCredentials(key).token("catalog"), options={"verify_signature": False})
    with pytest.raises(Unauthorized):
        await verifier.verify(jwt.encode(claims, "k" * 32, algorithm="HS256", headers={"kid": gateway_key.kid}))


async def test_tokens_are_reused_until_a_minute_before_expiry_then_re_signed() -> None:
    credentials = ServiceCredentials(ServiceKey.generate("proxy"))
    first = credentials.token("catalog")
    assert credentials.token("catalog") == first
    with time_machine.travel(utcnow() + dt.timedelta(minutes=4, seconds=30), tick=False):
        assert credentials.token("catalog") != first


async def test_development_keys_are_made_once_and_trusted_from_the_directory(tmp_path: Path) -> None:
    directory = tmp_path / "keys" / "services"
    trust = service_trust("catalog", None, production=False, directory=directory)  # before the key exists
    key = dev_service_key(directory, "proxy")
    assert dev_service_key(directory, "proxy").to_config() == key.to_config()
    assert (await verifier_of(trust).verify(ServiceCredentials(key).token("catalog"))).subject == "svc.proxy"
    nothing = service_trust("catalog", None, production=True, directory=directory)
    with pytest.raises(Unauthorized):
        await verifier_of(nothing).verify(ServiceCredentials(key).token("catalog"))
