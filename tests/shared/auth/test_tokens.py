"""Every way a token can be wrong gets a 401 problem+json (issue 2, part 2)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from fastapi import Depends, FastAPI

from doorstep_shared.auth.permissions import Permission
from doorstep_shared.auth.security import CurrentPrincipal, require
from doorstep_shared.auth.tokens import KeySet, Principal, SigningKey, TokenSigner, TokenVerifier
from doorstep_shared.clock import epoch_seconds
from doorstep_shared.http.errors import install_error_handlers

from ...support import AUDIENCE, ISSUER, Tokens, client_for

pytestmark = pytest.mark.dates


@pytest.fixture(scope="module")
def app(tokens: Tokens) -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)
    app.state.verifier = TokenVerifier(tokens.key_set(), issuer=ISSUER, audience=AUDIENCE, leeway=0)

    @app.get("/whoami")
    async def whoami(principal: CurrentPrincipal) -> dict[str, Any]:
        return {"sub": principal.subject, "roles": sorted(principal.roles)}

    @app.get("/residents", dependencies=[Depends(require(Permission.RESIDENTS_READ))])
    async def residents() -> dict[str, str]:
        return {"ok": "yes"}

    return app


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(app) as c:
        yield c


def claims(**overrides: Any) -> dict[str, Any]:
    now = int(epoch_seconds())
    base = {
        "sub": "chaoyang.worker",
        "kind": "user",
        "roles": ["social_worker"],
        "community": "chaoyang",
        "iss": ISSUER,
        "aud": AUDIENCE,
        "iat": now,
        "nbf": now,
        "exp": now + 300,
        "jti": "j1",
        "token_type": "access",
    }
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def sign(key: SigningKey, payload: dict[str, Any], **headers: Any) -> str:
    return jwt.encode(payload, key.private_key, algorithm="RS256", headers={"kid": key.kid, **headers})


async def assert_rejected(client: httpx.AsyncClient, token: str, code: str | None = None) -> None:
    resp = await client.get("/whoami", headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 401, resp.text
    assert resp.headers["content-type"] == "application/problem+json"
    body = resp.json()
    assert body["status"] == 401
    if code:
        assert body["code"] == code


async def test_a_valid_token_is_accepted(client: httpx.AsyncClient, tokens: Tokens) -> None:
    resp = await client.get("/whoami", headers={"Authorization": f"Bearer {sign(tokens.key, claims())}"})
    assert resp.status_code == 200
    assert resp.json() == {"sub": "chaoyang.worker", "roles": ["social_worker"]}


async def test_missing_token(client: httpx.AsyncClient) -> None:
    resp = await client.get("/whoami")
    assert resp.status_code == 401 and resp.json()["code"] == "missing_token"


async def test_alg_none_is_rejected(client: httpx.AsyncClient, tokens: Tokens) -> None:
    header = base64.urlsafe_b64encode(json.dumps({"alg": "none", "kid": tokens.key.kid}).encode()).rstrip(b"=")
    body = base64.urlsafe_b64encode(json.dumps(claims()).encode()).rstrip(b"=")
    await assert_rejected(client, f"{header.decode()}.{body.decode()}.", "invalid_token")


async def test_hmac_token_made_with_the_public_key_is_rejected(client: httpx.AsyncClient, tokens: Tokens) -> None:
    public_pem = tokens.key.private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    header = {"alg": "HS256", "kid": tokens.key.kid, "typ": "JWT"}
    segments = [
        base64.urlsafe_b64encode(json.dumps(header).encode()).rstrip(b"="),
        base64.urlsafe_b64encode(json.dumps(claims()).encode()).rstrip(b"="),
    ]
    signature = hmac.new(public_pem, b".".join(segments), hashlib.sha256).digest()
    token = b".".join([*segments, base64.urlsafe_b64encode(signature).rstrip(b"=")]).decode()
    await assert_rejected(client, token, "invalid_token")


async def test_another_asymmetric_algorithm_is_rejected(client: httpx.AsyncClient, tokens: Tokens) -> None:
    token = jwt.encode(claims(), tokens.key.private_key, algorithm="PS256", headers={"kid": tokens.key.kid})
    await assert_rejected(client, token, "invalid_token")


async def test_bad_signature_is_rejected(client: httpx.AsyncClient, tokens: Tokens) -> None:
    other = SigningKey.generate(tokens.key.kid)  # same kid, different key
    await assert_rejected(client, sign(other, claims()), "invalid_token")


async def test_tampered_payload_is_rejected(client: httpx.AsyncClient, tokens: Tokens) -> None:
    head, _, sig = sign(tokens.key, claims()).split(".")
    forged = base64.urlsafe_b64encode(json.dumps(claims(roles=["county_admin"])).encode()).rstrip(b"=").decode()
    await assert_rejected(client, f"{head}.{forged}.{sig}", "invalid_token")


async def test_expired_token_is_rejected(client: httpx.AsyncClient, tokens: Tokens) -> None:
    now = int(epoch_seconds())
    await assert_rejected(
        client,
        sign(tokens.key, claims(iat=now - 600, nbf=now - 600, exp=now - 60)),
        "token_expired",
    )


async def test_not_yet_valid_token_is_rejected(client: httpx.AsyncClient, tokens: Tokens) -> None:
    await assert_rejected(client, sign(tokens.key, claims(nbf=int(epoch_seconds()) + 600)), "invalid_token")


async def test_wrong_issuer_is_rejected(client: httpx.AsyncClient, tokens: Tokens) -> None:
    await assert_rejected(client, sign(tokens.key, claims(iss="someone-else")), "invalid_token")


async def test_wrong_audience_is_rejected(client: httpx.AsyncClient, tokens: Tokens) -> None:
    await assert_rejected(client, sign(tokens.key, claims(aud="another-system")), "invalid_token")


@pytest.mark.parametrize("missing", ["exp", "iat", "nbf", "iss", "aud", "sub", "jti", "token_type"])
async def test_missing_claims_are_rejected(client: httpx.AsyncClient, tokens: Tokens, missing: str) -> None:
    payload = claims()
    payload.pop(missing)
    await assert_rejected(client, sign(tokens.key, payload))


async def test_unknown_kid_is_rejected(client: httpx.AsyncClient, tokens: Tokens) -> None:
    stranger = SigningKey.generate("unknown-kid")
    await assert_rejected(client, sign(stranger, claims()), "invalid_token")


async def test_refresh_token_used_as_access_token_is_rejected(client: httpx.AsyncClient, tokens: Tokens) -> None:
    await assert_rejected(client, sign(tokens.key, claims(token_type="refresh")), "wrong_token_type")


async def test_garbage_is_rejected(client: httpx.AsyncClient) -> None:
    await assert_rejected(client, "definitely-not-a-jwt", "invalid_token")


async def test_missing_permission_is_403_problem(client: httpx.AsyncClient, tokens: Tokens) -> None:
    resp = await client.get("/residents", headers=tokens.headers("station_keeper"))
    assert resp.status_code == 403
    assert resp.json()["code"] == "missing_permission"
    assert (await client.get("/residents", headers=tokens.headers("social_worker"))).status_code == 200


async def test_jwks_keyset_refetches_on_unknown_kid_with_throttling(tokens: Tokens) -> None:
    new_key = SigningKey.generate("rotated-key")
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        return httpx.Response(200, json={"keys": [tokens.key.public_jwk(), new_key.public_jwk()]})

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
        keys = KeySet(url="http://gateway.test/.well-known/jwks.json", http=http, min_refetch_interval=60)
        verifier = TokenVerifier(keys, issuer=ISSUER, audience=AUDIENCE)
        signer = TokenSigner(new_key, issuer=ISSUER, audience=AUDIENCE, access_ttl=60, refresh_ttl=60)
        principal = await verifier.verify(signer.access_token(tokens.principal("auditor"))[0])
        assert principal.roles == {"auditor"}
        assert calls == 1
        stranger = SigningKey.generate("never-published")
        with pytest.raises(Exception, match="unknown key"):
            await verifier.verify(sign(stranger, claims()))
        assert calls == 1  # throttled: no second fetch within the interval


async def test_services_drop_a_retired_key_when_their_key_set_ages_out(tokens: Tokens) -> None:
    published = {"keys": [tokens.key.public_jwk()]}

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=published)

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
        keys = KeySet(url="http://gateway.test/.well-known/jwks.json", http=http, min_refetch_interval=0, max_age=0)
        verifier = TokenVerifier(keys, issuer=ISSUER, audience=AUDIENCE)
        assert (await verifier.decode(sign(tokens.key, claims())))["sub"] == "chaoyang.worker"
        published["keys"] = []  # the gateway retired the key
        with pytest.raises(Exception, match="unknown key"):
            await verifier.decode(sign(tokens.key, claims(jti="j2")))


async def test_the_county_claim_round_trips_and_older_tokens_without_it_still_verify(tokens: Tokens) -> None:
    verifier = TokenVerifier(tokens.key_set(), issuer=ISSUER, audience=AUDIENCE)
    staff = Principal(subject="a", kind="user", name="a", roles=frozenset({"county_admin"}), county="hexian")
    token, payload = tokens.signer.access_token(staff)
    assert payload["county"] == "hexian"
    assert (await verifier.verify(token)).county == "hexian"
    older = sign(tokens.key, claims())  # issued before tokens carried a county
    assert "county" not in jwt.decode(older, options={"verify_signature": False})
    assert (await verifier.verify(older)).county is None
