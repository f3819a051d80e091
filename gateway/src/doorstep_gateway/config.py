"""Gateway settings (env prefix ``DOORSTEP_GATEWAY_``; the demo password is ``DOORSTEP_DEMO_PASSWORD``)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, model_validator
from pydantic_settings import SettingsConfigDict

from doorstep_shared.config import AuditSettings, PiiSettings

DEFAULT_DEMO_PASSWORD = "doorstep-demo"  # noqa: S105 (local demo only; refused in production)
# Roles that must use two factors in production unless DOORSTEP_GATEWAY_MFA_REQUIRED_ROLES says otherwise.
PRODUCTION_MFA_ROLES = "platform_admin,county_admin,community_admin,security_officer,auditor"


class GatewaySettings(PiiSettings, AuditSettings):
    model_config = SettingsConfigDict(env_prefix="DOORSTEP_GATEWAY_", extra="ignore")

    port: int = 8000
    service_name: str = "gateway"

    catalog_url: str = Field("http://127.0.0.1:8001", description="Catalog service base URL")
    proxy_url: str = Field("http://127.0.0.1:8002", description="Proxy service base URL")
    stations_url: str = Field("http://127.0.0.1:8003", description="Stations service base URL")
    upstream_connect_timeout: float = Field(1.0, description="Seconds to connect to a service")
    upstream_read_timeout: float = Field(15.0, description="Seconds to wait for a service's answer")
    upstream_max_connections: int = Field(200, description="Connection pool size per service")
    max_body_bytes: int = Field(16 * 1024 * 1024, description="Largest request body accepted (413 beyond)")
    directory_import_max_bytes: int = Field(
        16 * 1024 * 1024, ge=1024, description="Largest directory import file (.csv/.xlsx) accepted (413 beyond)"
    )
    directory_import_max_rows: int = Field(
        50_000, ge=1, description="Most data rows in one directory import file (422 beyond)"
    )
    open311_jurisdiction_id: str = Field(
        "hexian", max_length=100, description="Open311 jurisdiction_id this gateway serves (optional for clients)"
    )
    reports_timeout: float = Field(
        5.0, gt=0, le=60, description="Seconds the figures wait for each service before calling it unavailable"
    )

    signing_key_file: Path | None = Field(
        None, description="RSA private key (PEM) that signs tokens; required in production"
    )
    signing_key_id: str | None = Field(None, description="Key id (kid) of the signing key; default the file's stem")
    verification_key_files: list[Path] = Field(
        default_factory=list,
        description="Other keys (PEM, private or public; kid = file stem) published in JWKS and accepted: "
        "the next key before it signs, the previous one until its tokens expire",
    )
    access_token_ttl: int = Field(900, description="Access token lifetime in seconds")
    refresh_token_ttl: int = Field(14 * 24 * 3600, description="Refresh token lifetime in seconds")
    login_max_failures: int = Field(
        5,
        ge=1,
        description="Wrong passwords for one account from one address before each further attempt from "
        "there waits (1 s, doubling)",
    )
    login_lockout_seconds: int = Field(
        300, ge=1, description="The longest wait one address earns for one account (seconds)"
    )
    login_account_ceiling: int = Field(
        100,
        ge=1,
        description="Wrong passwords for one account from all addresses within the window after which only "
        "addresses it signed in from before may try (nobody else can lock a user out)",
    )
    login_ceiling_window_seconds: int = Field(3600, ge=1, description="The window of the account-wide ceiling")
    argon2_time_cost: int = Field(3, ge=1, description="Argon2id iterations for password and client-secret hashes")
    argon2_memory_kib: int = Field(65536, ge=1024, description="Argon2id memory per hash (KiB)")
    argon2_parallelism: int = Field(
        1,
        ge=1,
        le=16,
        description="Argon2id lanes of a new hash: the cores one hash may use at once (1 leaves the others to the "
        "requests being routed meanwhile)",
    )
    argon2_workers: int = Field(
        1,
        ge=1,
        le=64,
        description="Hashes computed at once per process (sign-ins beyond it wait their turn; each holds "
        "argon2_memory_kib): raise it on a machine with cores to spare",
    )

    forwarded_allow_ips: str = Field(
        "",
        description="Proxies trusted to set X-Forwarded-For/-Proto: comma-separated addresses or networks "
        "(e.g. the ingress controller's range); empty trusts none, so the peer's own address counts",
    )
    cors_origins: list[str] = Field(default_factory=list, description="Allowed CORS origins (closed when empty)")
    redis_url: str | None = Field(None, description="Redis URL for shared rate-limit counters (memory when unset)")
    rate_limit_token: str = Field("30/minute", description="Token endpoint requests per client IP")
    rate_limit_user: str = Field("1200/minute", description="Requests per signed-in user")
    rate_limit_anonymous: str = Field("120/minute", description="Requests per IP without a valid token")
    mfa_required_roles: str | None = Field(
        None,
        description="Comma-separated roles that must sign in with two factors (TOTP); an account holding one "
        "without two factors reaches only the enrolment endpoints. Unset: "
        f"`{PRODUCTION_MFA_ROLES}` in production, none in development and test (the demo logins)",
    )
    session_policies: str = Field(
        "",
        description="Per-role sign-in lifetimes: `role:lifetime_seconds:idle_seconds,…` (a session ends that long "
        "after sign-in, or after that long unused; the strictest of an account's roles applies). Roles not "
        "named: REFRESH_TOKEN_TTL for both. E.g. `county_admin:43200:1800,social_worker:2592000:604800`",
    )
    password_max_age_days: str = Field(
        "",
        description="Per-role password expiry: `role:days,…` (the strictest of an account's roles applies); a "
        "password older than that signs in no more (401 password_expired) until changed at "
        "/api/v1/auth/password. Roles not named, and the default: passwords never expire",
    )
    dormant_account_days: int = Field(
        0, ge=0, description="Lock (deactivate) an account at its next sign-in after this many days unused; 0: never"
    )
    demo_password: str = Field(
        DEFAULT_DEMO_PASSWORD,
        validation_alias="DOORSTEP_DEMO_PASSWORD",
        description="Password of the demo logins (DOORSTEP_DEMO_PASSWORD)",
    )

    @model_validator(mode="after")
    def _production_guards(self) -> GatewaySettings:
        if self.environment == "production" and self.signing_key_file is None:
            raise ValueError("DOORSTEP_GATEWAY_SIGNING_KEY_FILE must be set in production")
        try:
            policies = self.role_session_policies
        except ValueError as exc:
            raise ValueError("DOORSTEP_GATEWAY_SESSION_POLICIES: `role:lifetime_seconds:idle_seconds,…`") from exc
        if any(lifetime < 60 or idle < 60 for lifetime, idle in policies.values()):
            raise ValueError("DOORSTEP_GATEWAY_SESSION_POLICIES: lifetimes and idle timeouts are at least 60 seconds")
        try:
            ages = self.role_password_max_age
        except ValueError as exc:
            raise ValueError("DOORSTEP_GATEWAY_PASSWORD_MAX_AGE_DAYS: `role:days,…`") from exc
        if any(days < 1 for days in ages.values()):
            raise ValueError("DOORSTEP_GATEWAY_PASSWORD_MAX_AGE_DAYS: at least 1 day")
        return self

    @property
    def role_password_max_age(self) -> dict[str, int]:
        """``password_max_age_days`` parsed: role → days a password may be used."""
        ages: dict[str, int] = {}
        for part in filter(None, (p.strip() for p in self.password_max_age_days.split(","))):
            role, days = part.split(":")
            ages[role.strip()] = int(days)
        return ages

    @property
    def role_session_policies(self) -> dict[str, tuple[int, int]]:
        """``session_policies`` parsed: role → (lifetime, idle timeout) in seconds."""
        policies: dict[str, tuple[int, int]] = {}
        for part in filter(None, (p.strip() for p in self.session_policies.split(","))):
            role, lifetime, idle = part.split(":")
            policies[role.strip()] = (int(lifetime), int(idle))
        return policies

    @property
    def mfa_roles(self) -> frozenset[str]:
        """The roles that must sign in with two factors (see ``mfa_required_roles``)."""
        spec = self.mfa_required_roles
        if spec is None:
            spec = PRODUCTION_MFA_ROLES if self.is_production else ""
        return frozenset(r.strip() for r in spec.split(",") if r.strip())

    @property
    def upstreams(self) -> dict[str, str]:
        return {"catalog": self.catalog_url, "proxy": self.proxy_url, "stations": self.stations_url}


@lru_cache
def get_settings() -> GatewaySettings:
    return GatewaySettings()
