"""Access and refresh tokens: RS256-signed JWTs, issued by the gateway, verified everywhere."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, Literal, Protocol

import httpx
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from ..clock import epoch_seconds, utcnow
from ..directory.model import Directory
from ..http.errors import Unauthorized
from .permissions import COUNTY_ROLES, Permission, permissions_for_roles

ALGORITHM = "RS256"  # pinned: the verifier accepts nothing else
ACCESS = "access"
REFRESH = "refresh"
REQUIRED_CLAIMS = ["exp", "iat", "nbf", "iss", "aud", "sub", "jti", "token_type"]

logger = logging.getLogger("doorstep.tokens")

PrincipalKind = Literal["user", "client"]


@dataclasses.dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: a staff user or a machine client, with what it may do and see."""

    subject: str
    kind: PrincipalKind
    name: str
    roles: frozenset[str] = frozenset()
    scopes: frozenset[str] = frozenset()
    county: str | None = None  # staff: their county (None: the deployment's single county, or platform staff)
    community: str | None = None
    grid: str | None = None
    communities: frozenset[str] = frozenset()  # machine clients: communities they may act in
    token_id: str = ""
    expires_at: float = 0.0
    permissions: frozenset[str] = frozenset()
    quota_per_minute: int | None = None  # machine clients: their request quota at the gateway
    # County roles of a named county: its communities as the app's directory copy has them now
    # (set by :meth:`within`, never a claim, so a community created since the token was issued
    # is seen at once). None: not resolved, and such a principal sees no community.
    county_communities: frozenset[str] | None = None
    # Staff whose role requires two factors but who have not enrolled: the token reaches only the
    # enrolment endpoints (doorstep_shared.auth.security.MFA_ENROLLMENT_PATHS).
    mfa_enrollment: bool = False
    session_id: str | None = None  # staff: the sign-in (refresh family) this token belongs to

    @property
    def is_county(self) -> bool:
        return any(r in COUNTY_ROLES for r in self.roles)

    def has(self, permission: str) -> bool:
        return permission in self.permissions

    @property
    def sees_only_its_own(self) -> bool:
        """A machine client sees only records that came from its own requests (demands, Open311),
        unless the security officer granted it ``cases:read:all``; each service's tenancy applies it."""
        return self.kind == "client" and Permission.CASES_READ_ALL not in self.scopes

    @property
    def visible_communities(self) -> frozenset[str] | None:
        """Communities whose records this principal sees; ``None`` means all of them.

        A county role sees its county's communities (resolved from the directory by
        :meth:`within`; unresolved, none); a county role without a county is the single-county
        deployment's and sees all. Anyone else sees their own community."""
        if self.kind == "client":
            return self.communities or None
        if self.is_county:
            if self.county is None:
                return None
            return self.county_communities if self.county_communities is not None else frozenset()
        return frozenset({self.community}) if self.community else frozenset()

    def within(self, directory: Directory | None) -> Principal:
        """This principal with its county's communities read from ``directory`` (the app's
        current copy; None: no copy yet, so a county role sees nothing). Anyone but a county
        role of a named county is returned unchanged."""
        if self.kind != "user" or self.county is None or not self.is_county:
            return self
        found = directory.community_codes_of(self.county) if directory is not None else frozenset()
        if found == self.county_communities:
            return self
        return dataclasses.replace(self, county_communities=found)

    def sees_community(self, community: str | None) -> bool:
        visible = self.visible_communities
        return visible is None or community in visible

    @classmethod
    def from_claims(cls, claims: Mapping[str, Any]) -> Principal:
        roles = frozenset(claims.get("roles") or ())
        scopes = frozenset((claims.get("scope") or "").split())
        kind: PrincipalKind = "client" if claims.get("kind") == "client" else "user"
        permissions = scopes if kind == "client" else permissions_for_roles(roles)
        return cls(
            subject=str(claims["sub"]),
            kind=kind,
            name=str(claims.get("name") or claims["sub"]),
            roles=roles,
            scopes=scopes,
            county=claims.get("county"),
            community=claims.get("community"),
            grid=claims.get("grid"),
            communities=frozenset(claims.get("communities") or ()),
            token_id=str(claims["jti"]),
            expires_at=float(claims["exp"]),
            permissions=permissions,
            quota_per_minute=int(claims["rpm"]) if claims.get("rpm") else None,
            mfa_enrollment=bool(claims.get("mfa_enroll")),
            session_id=str(claims["sid"]) if claims.get("sid") else None,
        )

    def to_claims(self) -> dict[str, Any]:
        claims: dict[str, Any] = {"sub": self.subject, "kind": self.kind, "name": self.name}
        if self.roles:
            claims["roles"] = sorted(self.roles)
        if self.scopes:
            claims["scope"] = " ".join(sorted(self.scopes))
        if self.county:
            claims["county"] = self.county
        if self.community:
            claims["community"] = self.community
        if self.grid:
            claims["grid"] = self.grid
        if self.communities:
            claims["communities"] = sorted(self.communities)
        if self.quota_per_minute:
            claims["rpm"] = self.quota_per_minute
        if self.mfa_enrollment:
            claims["mfa_enroll"] = True
        if self.session_id:
            claims["sid"] = self.session_id
        return claims


# --- keys ---------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class SigningKey:
    kid: str
    private_key: rsa.RSAPrivateKey

    @classmethod
    def generate(cls, kid: str | None = None) -> SigningKey:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        return cls(kid or f"k{utcnow():%Y%m%d}-{uuid.uuid4().hex[:8]}", key)

    @classmethod
    def from_pem(cls, kid: str, pem: bytes) -> SigningKey:
        key = serialization.load_pem_private_key(pem, password=None)
        if not isinstance(key, rsa.RSAPrivateKey):
            raise ValueError("signing key must be an RSA private key")
        return cls(kid, key)

    def to_pem(self) -> bytes:
        return self.private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )

    def public_jwk(self) -> dict[str, Any]:
        jwk: dict[str, Any] = json.loads(RSAAlgorithm.to_jwk(self.private_key.public_key()))
        jwk.update(kid=self.kid, alg=ALGORITHM, use="sig")
        return jwk


def load_or_create_dev_key(directory: Path) -> SigningKey:
    """Development only: one RSA key kept under var/keys, made on first run."""
    directory.mkdir(parents=True, exist_ok=True)
    existing = sorted(directory.glob("*.pem"))
    if existing:
        path = existing[-1]
        return SigningKey.from_pem(path.stem, path.read_bytes())
    key = SigningKey.generate()
    path = directory / f"{key.kid}.pem"
    path.write_bytes(key.to_pem())
    path.chmod(0o600)
    return key


def jwks_document(keys: Iterable[SigningKey]) -> dict[str, Any]:
    return {"keys": [k.public_jwk() for k in keys]}


def public_key_from_pem(pem: bytes) -> rsa.RSAPublicKey:
    """An RSA public key from a PEM holding either the private or the public key."""
    if b"PRIVATE KEY" in pem:
        key: Any = serialization.load_pem_private_key(pem, password=None)
        key = key.public_key()
    else:
        key = serialization.load_pem_public_key(pem)
    if not isinstance(key, rsa.RSAPublicKey):
        raise ValueError("verification keys must be RSA keys")
    return key


def public_jwk(kid: str, key: rsa.RSAPublicKey) -> dict[str, Any]:
    jwk: dict[str, Any] = json.loads(RSAAlgorithm.to_jwk(key))
    jwk.update(kid=kid, alg=ALGORITHM, use="sig")
    return jwk


# --- signing (gateway only) ---------------------------------------------------------------


class TokenSigner:
    """Issues tokens with the active key; other published keys still verify during rotation."""

    def __init__(self, active: SigningKey, *, issuer: str, audience: str, access_ttl: int, refresh_ttl: int) -> None:
        self.active = active
        self.issuer = issuer
        self.audience = audience
        self.access_ttl = access_ttl
        self.refresh_ttl = refresh_ttl

    def _encode(self, claims: dict[str, Any], token_type: str, ttl: int, jti: str | None) -> tuple[str, dict[str, Any]]:
        now = int(epoch_seconds())
        payload = {
            **claims,
            "iss": self.issuer,
            "aud": self.audience,
            "iat": now,
            "nbf": now,
            "exp": now + ttl,
            "jti": jti or uuid.uuid4().hex,
            "token_type": token_type,
        }
        headers = {"kid": self.active.kid, "typ": "at+jwt" if token_type == ACCESS else "JWT"}
        token = jwt.encode(payload, self.active.private_key, algorithm=ALGORITHM, headers=headers)
        return token, payload

    def access_token(self, principal: Principal) -> tuple[str, dict[str, Any]]:
        return self._encode(principal.to_claims(), ACCESS, self.access_ttl, None)

    def refresh_token(
        self, subject: str, *, jti: str, family: str, ttl: int | None = None
    ) -> tuple[str, dict[str, Any]]:
        """``ttl``: this token's lifetime when a role policy sets one (default ``refresh_ttl``)."""
        return self._encode({"sub": subject, "kind": "user", "fam": family}, REFRESH, ttl or self.refresh_ttl, jti)


# --- verification (every app) -------------------------------------------------------------


class KeySet:
    """Public keys by kid: from a JWKS URL (refetched on an unknown kid, throttled) or a file/dict."""

    def __init__(
        self,
        *,
        url: str | None = None,
        file: Path | None = None,
        keys: Mapping[str, Any] | None = None,
        http: httpx.AsyncClient | None = None,
        min_refetch_interval: float = 10.0,
        max_age: float = 300.0,
    ) -> None:
        self.max_age = max_age
        self.url = url
        self.file = file
        self._http = http
        self._keys: dict[str, Any] = dict(keys or {})
        self._last_fetch = 0.0
        self._lock = asyncio.Lock()
        self.min_refetch_interval = min_refetch_interval
        if file is not None and file.exists():
            self.load_document(json.loads(file.read_text()))

    def load_document(self, document: Mapping[str, Any]) -> None:
        keys: dict[str, Any] = {}
        for jwk in document.get("keys", []):
            if jwk.get("kty") != "RSA" or jwk.get("alg", ALGORITHM) != ALGORITHM:
                continue
            keys[jwk["kid"]] = RSAAlgorithm.from_jwk(jwk)
        self._keys = keys

    def set_keys(self, keys: Mapping[str, Any]) -> None:
        self._keys = dict(keys)

    def get_cached(self, kid: str) -> Any | None:
        return self._keys.get(kid)

    @property
    def stale(self) -> bool:
        """A remote key set is re-read every ``max_age`` seconds, so retired keys drop out."""
        return (self.url is not None or self.file is not None) and time.monotonic() - self._last_fetch > self.max_age

    async def get(self, kid: str) -> Any | None:
        key = self._keys.get(kid)
        if key is not None:
            return key
        await self.refresh()
        return self._keys.get(kid)

    async def refresh(self, *, force: bool = False) -> None:
        if self.url is None and self.file is None:
            return
        async with self._lock:
            if not force and time.monotonic() - self._last_fetch < self.min_refetch_interval:
                return
            self._last_fetch = time.monotonic()
            try:
                if self.file is not None:
                    self.load_document(json.loads(self.file.read_text()))
                elif self.url is not None:
                    client = self._http or httpx.AsyncClient(timeout=3.0)
                    try:
                        resp = await client.get(self.url, follow_redirects=False)
                        resp.raise_for_status()
                        self.load_document(resp.json())
                    finally:
                        if self._http is None:
                            await client.aclose()
            except (OSError, httpx.HTTPError, ValueError, KeyError) as exc:
                logger.warning("could not load JWKS: %s", type(exc).__name__)


def decode_pinned(
    token: str, key: Any, algorithm: str, *, audience: str, issuer: str, leeway: int, require: list[str]
) -> dict[str, Any]:
    """The verified claims (one algorithm, signature, time, issuer, audience); a 401 problem otherwise."""
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            key,
            algorithms=[algorithm],
            audience=audience,
            issuer=issuer,
            leeway=leeway,
            options={"require": require},
        )
    except jwt.ExpiredSignatureError as exc:
        raise Unauthorized("Token has expired.", code="token_expired") from exc
    except jwt.PyJWTError as exc:
        raise Unauthorized(f"Token rejected: {type(exc).__name__}.", code="invalid_token") from exc
    return claims


class ServiceTokens(Protocol):
    """Other services' own tokens (``service_keys.ServiceTrust``): their algorithm and keys."""

    algorithm: str

    async def verify(self, token: str, header: Mapping[str, Any]) -> Principal: ...


class TokenVerifier:
    """Verifies access tokens: pinned algorithm, signature, time, issuer, audience, type.

    Results are cached per token string until the token expires, so a token presented many
    times is checked cryptographically once per process.
    """

    def __init__(
        self,
        keys: KeySet,
        *,
        issuer: str,
        audience: str,
        leeway: int = 5,
        cache_size: int = 10_000,
        services: ServiceTokens | None = None,
        directory: Callable[[], Directory | None] | None = None,
    ) -> None:
        self.keys = keys
        # The app's current directory copy: county roles are resolved against it on every
        # verification (the cache keeps the token's principal, not the resolution).
        self.directory = directory
        self.services = services  # other services' own tokens (their keys and algorithm, never the gateway's)
        self.issuer = issuer
        self.audience = audience
        self.leeway = leeway
        self._cache: OrderedDict[str, Principal] = OrderedDict()
        self._cache_size = cache_size

    async def verify(self, token: str, *, token_type: str = ACCESS) -> Principal:
        cached = self._cache.get(token)
        if cached is not None and token_type == ACCESS:
            if cached.expires_at + self.leeway > epoch_seconds():
                return self._scoped(cached)
            self._cache.pop(token, None)
        principal = await self._service_principal(token) if token_type == ACCESS else None
        if principal is None:
            principal = Principal.from_claims(await self.decode(token, token_type=token_type))
        if token_type == ACCESS:
            self._cache[token] = principal
            if len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return self._scoped(principal)

    def _scoped(self, principal: Principal) -> Principal:
        """A county role resolved against the directory as it is now (see ``Principal.within``)."""
        if self.directory is None or not principal.is_county:
            return principal
        return principal.within(self.directory())

    async def _service_principal(self, token: str) -> Principal | None:
        """A service's own token (its algorithm, its key set, its grants); None for anything else."""
        if self.services is None:
            return None
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise Unauthorized("Malformed token.", code="invalid_token") from exc
        if header.get("alg") != self.services.algorithm:
            return None
        return await self.services.verify(token, header)

    async def decode(self, token: str, *, token_type: str = ACCESS) -> dict[str, Any]:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise Unauthorized("Malformed token.", code="invalid_token") from exc
        if header.get("alg") != ALGORITHM:
            raise Unauthorized("Token algorithm not accepted.", code="invalid_token")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise Unauthorized("Token has no key id.", code="invalid_token")
        if self.keys.stale:
            await self.keys.refresh()
        key = self.keys.get_cached(kid) or await self.keys.get(kid)
        if key is None:
            raise Unauthorized("Token signed by an unknown key.", code="invalid_token")
        claims = decode_pinned(
            token,
            key,
            ALGORITHM,
            audience=self.audience,
            issuer=self.issuer,
            leeway=self.leeway,
            require=REQUIRED_CLAIMS,
        )
        if claims.get("token_type") != token_type:
            raise Unauthorized(f"A {token_type} token is required.", code="wrong_token_type")
        return claims
