"""Service identities: a service signs its own short-lived tokens for the services it calls.

Service-to-service credentials are provisioned by the deployment, never by the public client
registry (an admin's click must not be able to rotate or revoke the plumbing). Each calling
service holds one Ed25519 private key (``kid:base64-seed``); each called service trusts a list
of public keys (``service:kid:base64-key,…``) from its configuration and verifies the tokens
itself, as RFC 7523 assertions verified at the resource rather than exchanged at the gateway's
token endpoint: a call from the proxy to the catalog then depends on the catalog alone.

What a service may do at another is not in the token: the receiver grants it from
``SERVICE_GRANTS`` (the architecture's service-to-service calls, per caller and receiver), so a
leaked proxy key can read the catalogue and the gateway's staff roster and nothing else. Tokens are bound to one audience (the called service's
name) and live five minutes; during a key rotation the receiver trusts the old and the new
public key (deploy/README.md, "Service keys").
"""

from __future__ import annotations

import base64
import dataclasses
import os
import uuid
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from ..clock import epoch_seconds
from ..http.errors import Unauthorized
from .tokens import Principal, decode_pinned

SERVICE_ALGORITHM = "EdDSA"  # pinned: service tokens are verified with nothing else
SUBJECT_PREFIX = "svc."  # iss and sub of a service token: "svc.proxy"; reserved in the client registry
TOKEN_TTL = 300  # seconds; the receiver refuses longer-lived service tokens
MAX_TTL = 600
REQUIRED = ["exp", "iat", "nbf", "iss", "aud", "sub", "jti"]

# Caller → called service (the token's audience) → what it may do there: the architecture's
# service-to-service calls, each granted only where it is made.
SERVICE_GRANTS: Mapping[str, Mapping[str, frozenset[str]]] = {
    "proxy": {"catalog": frozenset({"catalog:read"}), "gateway": frozenset({"staff:roster"})},
    "stations": {"gateway": frozenset({"staff:roster"})},
}


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclasses.dataclass(frozen=True, slots=True)
class ServiceKey:
    """One service's signing key (the private half stays with that service)."""

    service: str
    kid: str
    private_key: Ed25519PrivateKey

    @classmethod
    def generate(cls, service: str, kid: str | None = None) -> ServiceKey:
        return cls(service, kid or f"{service}-{uuid.uuid4().hex[:8]}", Ed25519PrivateKey.generate())

    @classmethod
    def from_config(cls, service: str, text: str) -> ServiceKey:
        """``kid:base64url-seed`` (32 bytes), as ``python -m doorstep_tools.service_keys new`` prints it."""
        kid, sep, seed = text.strip().partition(":")
        if not sep or not kid or not seed:
            raise ValueError("a service key is `kid:base64url-seed`")
        return cls(service, kid, Ed25519PrivateKey.from_private_bytes(_unb64(seed)))

    def to_config(self) -> str:
        seed = self.private_key.private_bytes(
            serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
        )
        return f"{self.kid}:{_b64(seed)}"

    def public_config(self) -> str:
        raw = self.private_key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return f"{self.service}:{self.kid}:{_b64(raw)}"


class ServiceCredentials:
    """The calling side: one token per audience, re-signed a minute before it expires."""

    def __init__(self, key: ServiceKey, *, ttl: int = TOKEN_TTL) -> None:
        self.key = key
        self.ttl = ttl
        self._tokens: dict[str, tuple[str, float]] = {}

    @property
    def subject(self) -> str:
        return SUBJECT_PREFIX + self.key.service

    def token(self, audience: str) -> str:
        now = epoch_seconds()
        cached = self._tokens.get(audience)
        if cached is not None and now < cached[1] - 60:
            return cached[0]
        issued = int(now)
        claims = {
            "iss": self.subject,
            "sub": self.subject,
            "aud": audience,
            "iat": issued,
            "nbf": issued,
            "exp": issued + self.ttl,
            "jti": uuid.uuid4().hex,
        }
        token = jwt.encode(claims, self.key.private_key, algorithm=SERVICE_ALGORITHM, headers={"kid": self.key.kid})
        self._tokens[audience] = (token, float(issued + self.ttl))
        return token


class ServiceTrust:
    """The called side: the public keys it trusts, by kid, each bound to one calling service."""

    algorithm = SERVICE_ALGORITHM

    def __init__(
        self,
        audience: str,
        keys: Mapping[str, tuple[str, Ed25519PublicKey]] | None = None,
        *,
        directory: Path | None = None,
        grants: Mapping[str, Mapping[str, frozenset[str]]] = SERVICE_GRANTS,
        leeway: int = 5,
    ) -> None:
        self.audience = audience
        self.grants = grants
        self.leeway = leeway
        self.directory = directory  # development: re-read when a key appears there
        self._keys: dict[str, tuple[str, Ed25519PublicKey]] = dict(keys or {})
        self._seen: int | None = None  # the directory's mtime when last read
        if directory is not None:
            self._read_directory()

    @classmethod
    def from_config(cls, audience: str, text: str) -> ServiceTrust:
        """``service:kid:base64url-key,…`` (both keys of a service during its rotation)."""
        return cls(audience, parse_public_keys(text))

    @property
    def kids(self) -> list[str]:
        return sorted(self._keys)

    def _read_directory(self) -> None:
        """Development: the public halves under the directory (read again only once it changed)."""
        assert self.directory is not None
        try:
            mtime = self.directory.stat().st_mtime_ns
        except OSError:
            return
        if mtime != self._seen:
            self._seen = mtime
            lines = (p.read_text() for p in sorted(self.directory.glob("*.pub")))
            self._keys.update(parse_public_keys(",".join(line.strip() for line in lines if line.strip())))

    async def _key(self, kid: str) -> tuple[str, Ed25519PublicKey] | None:
        found = self._keys.get(kid)
        if found is None and self.directory is not None:
            self._read_directory()
            found = self._keys.get(kid)
        return found

    async def verify(self, token: str, header: Mapping[str, Any]) -> Principal:
        if header.get("alg") != SERVICE_ALGORITHM:
            raise Unauthorized("Token algorithm not accepted.", code="invalid_token")
        found = await self._key(str(header.get("kid") or ""))
        if found is None:
            raise Unauthorized("Token signed by an unknown key.", code="invalid_token")
        service, key = found
        subject = SUBJECT_PREFIX + service
        claims = decode_pinned(
            token, key, SERVICE_ALGORITHM, audience=self.audience, issuer=subject, leeway=self.leeway, require=REQUIRED
        )
        if claims["sub"] != subject or int(claims["exp"]) - int(claims["iat"]) > MAX_TTL:
            raise Unauthorized("Service token rejected.", code="invalid_token")
        granted = self.grants.get(service, {}).get(self.audience, frozenset())
        return Principal(
            subject=subject,
            kind="client",
            name=subject,
            scopes=granted,
            token_id=str(claims["jti"]),
            expires_at=float(claims["exp"]),
            permissions=granted,
        )


def service_trust(audience: str, configured: str | None, *, production: bool, directory: Path) -> ServiceTrust:
    """What an app trusts: the configured keys; in production nothing else (no service may call
    it); elsewhere the development keys under ``directory``."""
    if configured:
        return ServiceTrust.from_config(audience, configured)
    return ServiceTrust(audience) if production else ServiceTrust(audience, directory=directory)


def parse_public_keys(text: str) -> dict[str, tuple[str, Ed25519PublicKey]]:
    keys: dict[str, tuple[str, Ed25519PublicKey]] = {}
    for entry in filter(None, (part.strip() for part in text.split(","))):
        service, kid, raw = [*entry.split(":"), "", ""][:3]
        if not (service and kid and raw):
            raise ValueError("trusted service keys are `service:kid:base64url-key`, comma-separated")
        keys[kid] = (service, Ed25519PublicKey.from_public_bytes(_unb64(raw)))
    return keys


def dev_service_key(directory: Path, service: str) -> ServiceKey:
    """Development and tests: the service's key under ``directory`` (var/keys/services), made on first use,
    with its public half beside it for the services it calls (``ServiceTrust(directory=…)``)."""
    directory.mkdir(parents=True, exist_ok=True)
    private = directory / f"{service}.key"
    if private.exists():
        return ServiceKey.from_config(service, private.read_text())
    key = ServiceKey.generate(service)
    tmp = directory / f".{service}.{uuid.uuid4().hex}.tmp"
    tmp.write_text(key.to_config())
    tmp.chmod(0o600)
    try:
        os.link(tmp, private)  # fails if another process got there first: every process agrees on one key
        public = directory / f".{service}.{uuid.uuid4().hex}.pub.tmp"
        public.write_text(key.public_config() + "\n")
        public.replace(directory / f"{service}.pub")  # whole, never half-written, for a reader
    except FileExistsError:
        pass
    finally:
        tmp.unlink()
    return ServiceKey.from_config(service, private.read_text())


def ensure_dev_service_keys(directory: Path, services: Iterable[str] = SERVICE_GRANTS) -> None:
    for service in services:
        dev_service_key(directory, service)
