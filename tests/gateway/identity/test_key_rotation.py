"""Signing-key rotation: publish the next key, switch, retire the old one after its tokens expire."""

from __future__ import annotations

from pathlib import Path

import pytest

from doorstep_gateway.config import GatewaySettings
from doorstep_gateway.main import create_app
from doorstep_shared.auth.tokens import SigningKey, TokenSigner

from ...support import AUDIENCE, ISSUER, Tokens, client_for, running

pytestmark = pytest.mark.dates


def write_key(directory: Path, key: SigningKey) -> Path:
    path = directory / f"{key.kid}.pem"
    path.write_bytes(key.to_pem())
    return path


def settings(tmp: Path, signing: Path, *others: Path) -> GatewaySettings:
    return GatewaySettings(
        environment="test",
        database_url=f"sqlite+aiosqlite:///{tmp}/unused.db",
        log_json=False,
        signing_key_file=signing,
        verification_key_files=list(others),
    )


def token_from(key: SigningKey, tokens: Tokens) -> dict[str, str]:
    signer = TokenSigner(key, issuer=ISSUER, audience=AUDIENCE, access_ttl=600, refresh_ttl=600)
    return {"Authorization": f"Bearer {signer.access_token(tokens.principal('social_worker'))[0]}"}


async def test_old_and_new_keys_verify_during_the_overlap_and_old_fails_after_retirement(
    tmp_path: Path, tokens: Tokens
) -> None:
    old, new = SigningKey.generate("key-2026-01"), SigningKey.generate("key-2026-07")
    old_pem, new_pem = write_key(tmp_path, old), write_key(tmp_path, new)
    old_token, new_token = token_from(old, tokens), token_from(new, tokens)

    # Step 1: the new key is published (and accepted) before it signs anything.
    async with running(create_app(settings(tmp_path, old_pem, new_pem))) as app, client_for(app) as client:
        kids = [k["kid"] for k in (await client.get("/.well-known/jwks.json")).json()["keys"]]
        assert kids == ["key-2026-01", "key-2026-07"]
        assert (await client.get("/api/v1/auth/me", headers=old_token)).status_code == 200
        assert (await client.get("/api/v1/auth/me", headers=new_token)).status_code == 200

    # Step 2: switch signing to the new key; the old one still verifies until its tokens expire.
    async with running(create_app(settings(tmp_path, new_pem, old_pem))) as app, client_for(app) as client:
        assert app.state.signer.active.kid == "key-2026-07"
        assert (await client.get("/api/v1/auth/me", headers=old_token)).status_code == 200

    # Step 3: retire the old key.
    async with running(create_app(settings(tmp_path, new_pem))) as app, client_for(app) as client:
        kids = [k["kid"] for k in (await client.get("/.well-known/jwks.json")).json()["keys"]]
        assert kids == ["key-2026-07"]
        assert (await client.get("/api/v1/auth/me", headers=new_token)).status_code == 200
        retired = await client.get("/api/v1/auth/me", headers=old_token)
        assert retired.status_code == 401
        assert retired.json()["code"] == "invalid_token"
