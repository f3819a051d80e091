"""Moved to doorstep_shared.auth.tokens; removed once every package imports the new path."""

from doorstep_shared.auth.tokens import (
    ACCESS,
    ALGORITHM,
    REFRESH,
    REQUIRED_CLAIMS,
    KeySet,
    Principal,
    PrincipalKind,
    SigningKey,
    TokenSigner,
    TokenVerifier,
    jwks_document,
    load_or_create_dev_key,
    public_jwk,
    public_key_from_pem,
)

__all__ = [
    "ACCESS",
    "ALGORITHM",
    "REFRESH",
    "REQUIRED_CLAIMS",
    "KeySet",
    "Principal",
    "PrincipalKind",
    "SigningKey",
    "TokenSigner",
    "TokenVerifier",
    "jwks_document",
    "load_or_create_dev_key",
    "public_jwk",
    "public_key_from_pem",
]
