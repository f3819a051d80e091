"""The gateway's token keys: the one that signs, the others it still accepts, and the JWKS that publishes them.

Rotation (README, "Signing-key rotation"): publish the next key among ``verification_key_files`` before it
signs, switch ``signing_key_file`` to it, and keep the previous one listed until its tokens expire.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from doorstep_shared.auth.tokens import (
    KeySet,
    SigningKey,
    TokenSigner,
    load_or_create_dev_key,
    public_jwk,
    public_key_from_pem,
)

from ..config import GatewaySettings


@dataclass(frozen=True)
class Keys:
    signing: SigningKey
    key_set: KeySet  # every key a token may be signed with, the signing key's included
    jwks: dict[str, Any]

    def signer(self, settings: GatewaySettings) -> TokenSigner:
        return TokenSigner(
            self.signing,
            issuer=settings.jwt_issuer,
            audience=settings.jwt_audience,
            access_ttl=settings.access_token_ttl,
            refresh_ttl=settings.refresh_token_ttl,
        )


def load_signing_key(settings: GatewaySettings) -> SigningKey:
    if settings.signing_key_file is not None:
        kid = settings.signing_key_id or settings.signing_key_file.stem
        return SigningKey.from_pem(kid, settings.signing_key_file.read_bytes())
    return load_or_create_dev_key(settings.var_dir / "keys" / "signing")


def load_keys(settings: GatewaySettings, signing_key: SigningKey | None = None) -> Keys:
    """The keys from settings; ``signing_key``, when given, signs instead of the configured one."""
    key = signing_key or load_signing_key(settings)
    others = {path.stem: public_key_from_pem(path.read_bytes()) for path in settings.verification_key_files}
    others.pop(key.kid, None)
    return Keys(
        signing=key,
        key_set=KeySet(keys={key.kid: key.private_key.public_key(), **others}),
        jwks={"keys": [key.public_jwk(), *(public_jwk(kid, k) for kid, k in others.items())]},
    )
