"""Typed settings shared by every app; each app subclasses with its own env prefix.

``ServiceSettings`` is what every app has. The mixins add a group of fields that several apps
share, under each app's own prefix (pydantic-settings applies a subclass's ``env_prefix`` to
inherited fields): ``class ProxySettings(PiiSettings, WebhookSettings)`` reads
``DOORSTEP_PROXY_PII_KEYS`` and ``DOORSTEP_PROXY_WEBHOOK_TIMEOUT``. ``WebhookSettings`` lives
with the webhooks (``doorstep_shared.webhooks.settings``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from .audit_anchor import AuditKeys, AuditTrust, FileAnchor, anchor_path
from .directory.files import demo_directory_file
from .pii import PiiCipher

Environment = Literal["development", "test", "production"]

# Network logs are kept at least six months (Cybersecurity Law art. 21, MLPS 2.0 level 3).
AUDIT_RETENTION_FLOOR_DAYS = 180


def default_var_dir() -> Path:
    """``./var`` under the working directory when the settings are made (where ``make run``
    and the image start the apps)."""
    return Path.cwd() / "var"


class ServiceSettings(BaseSettings):
    """Settings every Doorstep app has. Subclasses set ``env_prefix`` (e.g. ``DOORSTEP_CATALOG_``)."""

    model_config = SettingsConfigDict(env_prefix="DOORSTEP_", extra="ignore")

    environment: Environment = Field("development", description="development | test | production")
    host: str = Field("127.0.0.1", description="Interface to bind")
    port: int = Field(8000, description="Port to bind")
    database_url: str = Field("", description="SQLAlchemy async URL: sqlite+aiosqlite:///… or postgresql+asyncpg://…")
    database_schema: str | None = Field(None, description="PostgreSQL schema for this service's tables")
    database_pool_size: int = Field(
        16, description="PostgreSQL connections the app keeps open once opened (up to a quarter more for a moment)"
    )
    var_dir: Path = Field(
        default_factory=default_var_dir, description="Directory for local data (SQLite files, dev keys)"
    )
    jwt_issuer: str = Field("doorstep-gateway", description="Expected `iss` of access tokens")
    jwt_audience: str = Field("doorstep", description="Expected `aud` of access tokens")
    jwks_url: str = Field(
        "http://127.0.0.1:8000/.well-known/jwks.json",
        description="Where to fetch the gateway's public keys (JWKS)",
    )
    jwks_file: Path | None = Field(None, description="A JWKS JSON file to read public keys from instead of the URL")
    trusted_service_keys: str | None = Field(
        None,
        description="Public keys of the services that may call this one with their own tokens: "
        "`service:kid:base64url-key,…` (old and new during a rotation; deploy/README.md); "
        "outside production, unset means the development keys under var/keys/services",
    )
    log_level: str = Field("INFO", description="Log level")
    loop_lag_probe_ms: int = Field(
        20,
        ge=0,
        description="Sample how late the event loop wakes every this many ms, exported in /metrics "
        "(doorstep_event_loop_lag_seconds, …_max_seconds), with the garbage collector's pauses "
        "(doorstep_gc_pause_seconds); 0: off",
    )
    slow_callback_ms: int = Field(
        0,
        ge=0,
        description="A diagnostic: run the event loop in asyncio's debug mode and count every callback "
        "that holds it longer than this many ms (doorstep_event_loop_slow_callbacks_total in /metrics, "
        "and a WARNING naming it); debug mode costs CPU; 0: off",
    )
    gc_freeze_after_s: float = Field(
        60,
        ge=0,
        description="When start-up is done and again this many seconds later (caches filled, first "
        "background passes done; the proxy also after its first discovery pass): collect garbage and "
        "move every object then alive out of the collector's reach (gc.freeze), so that a full "
        "collection no longer walks them (130–170 ms each, several a minute, in the proxy under load); "
        "0: never",
    )
    log_json: bool = Field(True, description="JSON-lines logs")
    docs_enabled: bool = Field(True, description="Serve /docs, /redoc and /openapi.json")
    compression_min_bytes: int = Field(
        1024,
        ge=0,
        description="Compress answers of at least this many bytes (zstd, br or gzip, as the client accepts); 0: never",
    )
    cursor_secret: str | None = Field(
        None,
        repr=False,
        description="Key that signs page cursors; unset: derived from the app's PII hash key, else a key "
        "kept under var/keys (set it when several replicas serve one app)",
    )

    service_name: str = "doorstep"

    @property
    def env_prefix(self) -> str:
        return str(self.model_config.get("env_prefix", ""))

    @property
    def is_production(self) -> bool:
        return self.environment == "production"

    @property
    def service_keys_dir(self) -> Path:
        """Development and test: where services keep their own keys (var/keys/services)."""
        return self.var_dir / "keys" / "services"

    def cursor_key(self) -> bytes:
        """The key page cursors are signed with: from the configured secrets, so every replica of
        an app agrees without a new must-set variable; lacking any, one kept under var/keys."""
        secret = self.cursor_secret or getattr(self, "pii_hash_key", None)
        if secret:
            return hmac.new(secret.encode(), f"doorstep.cursor.{self.service_name}".encode(), hashlib.sha256).digest()
        path = self.var_dir / "keys" / f"{self.service_name}.cursor.key"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(base64.urlsafe_b64encode(os.urandom(32)).decode())
            path.chmod(0o600)
        return base64.urlsafe_b64decode(path.read_text().strip())

    def default_sqlite_url(self) -> str:
        return f"sqlite+aiosqlite:///{self.var_dir / (self.service_name + '.db')}"

    @model_validator(mode="after")
    def _fill_database_url(self) -> ServiceSettings:
        if not self.database_url:
            if self.environment == "production":
                raise ValueError(f"{self.env_prefix}DATABASE_URL must be set in production")
            self.database_url = self.default_sqlite_url()
        return self


class PiiSettings(ServiceSettings):
    """The keys for personal data at rest (a mixin: ``class ProxySettings(PiiSettings)``).

    Production refuses to start without them; development and test fall back to keys kept
    under ``var/keys`` (made on first use).
    """

    pii_keys: str | None = Field(
        None,
        repr=False,
        description="AES-GCM keys for personal data: `kid1:base64key,kid2:base64key` (the first encrypts); "
        "outside production, unset means development keys under var/keys",
    )
    pii_hash_key: str | None = Field(
        None,
        repr=False,
        description="Base64 HMAC key for the lookup hashes of personal data (ID numbers, phones)",
    )

    @model_validator(mode="after")
    def _require_pii_keys_in_production(self) -> PiiSettings:
        if self.is_production and not (self.pii_keys and self.pii_hash_key):
            prefix = self.env_prefix
            raise ValueError(f"{prefix}PII_KEYS and {prefix}PII_HASH_KEY must be set in production")
        return self

    def pii_cipher(self) -> PiiCipher:
        """The configured cipher; development and test fall back to keys kept under var/keys."""
        if self.pii_keys and self.pii_hash_key:
            return PiiCipher.from_config(self.pii_keys, self.pii_hash_key)
        if self.is_production:  # unreachable through the validator; kept as a second lock
            raise RuntimeError("personal-data keys are required in production")
        return PiiCipher.dev(self.var_dir / "keys")


class AuditSettings(ServiceSettings):
    """The audit chain's keys and anchor (a mixin for the apps that keep an audit log).

    Production refuses to start without keys; development and test fall back to keys kept
    under ``var/keys`` (made on first use), like the PII keys.
    """

    audit_keys: str | None = Field(
        None,
        repr=False,
        description="HMAC keys of the audit chain and its checkpoints: `kid1:base64key,kid2:base64key` "
        "(the first MACs new entries); outside production, unset means development keys under var/keys",
    )
    audit_anchor_dir: Path | None = Field(
        None,
        description="Directory of the append-only checkpoint files that pin the audit chain "
        "(default var/audit); in production, storage the database's operators cannot rewrite",
    )
    audit_checkpoint_seconds: float = Field(
        300.0, ge=0, description="Seconds between audit checkpoints (0: only at start-up and on verify)"
    )

    audit_retention_days: int = Field(
        AUDIT_RETENTION_FLOOR_DAYS,
        ge=0,
        description="Days an audit entry is kept before a background pass prunes it (behind a signed checkpoint "
        f"of what was pruned); 0: never prune. Production refuses less than {AUDIT_RETENTION_FLOOR_DAYS}",
    )

    @model_validator(mode="after")
    def _require_audit_keys_in_production(self) -> AuditSettings:
        if self.is_production and not self.audit_keys:
            raise ValueError(f"{self.env_prefix}AUDIT_KEYS must be set in production")
        if self.is_production and 0 < self.audit_retention_days < AUDIT_RETENTION_FLOOR_DAYS:
            raise ValueError(
                f"{self.env_prefix}AUDIT_RETENTION_DAYS must be at least {AUDIT_RETENTION_FLOOR_DAYS} in production "
                "(network logs are kept at least six months: Cybersecurity Law art. 21)"
            )
        return self

    def audit_trust(self) -> AuditTrust:
        """The chain's keys (configured, or development keys under var/keys) and its file anchor."""
        if self.audit_keys:
            keys = AuditKeys.from_config(self.audit_keys)
        elif self.is_production:  # unreachable through the validator; kept as a second lock
            raise RuntimeError("audit keys are required in production")
        else:
            keys = AuditKeys.dev(self.var_dir / "keys")
        directory = self.audit_anchor_dir or self.var_dir / "audit"
        path = anchor_path(directory, self.service_name, self.database_url, self.database_schema)
        return AuditTrust(keys, FileAnchor(path))


class DirectorySettings(ServiceSettings):
    """Where an app's copy of the org directory comes from (a mixin: ``class
    ProxySettings(DirectorySettings)`` reads ``DOORSTEP_PROXY_DIRECTORY_URL``); see
    ``doorstep_shared.directory_copy``."""

    directory_url: str | None = Field(
        None,
        description="The gateway's base URL (or its full /api/v1/directory/export URL) to follow the org "
        "directory from, polled with If-None-Match",
    )
    directory_file: Path | None = Field(
        None,
        description="A directory file (import CSV or export JSON): the directory when no URL is set, and "
        "while the URL has never served an export (404 or refused); outside production, unset means the "
        "demo directory shipped with doorstep_shared",
    )
    directory_poll_seconds: float = Field(
        2.0, ge=0, le=3600, description="Seconds between two polls of the directory (0: read it at start-up only)"
    )

    def directory_source(self) -> tuple[str | None, Path | None]:
        """The URL and the file to follow. Outside production an unset file is the demo file (the
        directory until a URL answers); in production, neither set leaves the app without a
        directory (``unavailable`` on /readyz, 503 where one is needed)."""
        if self.directory_file or self.is_production:
            return self.directory_url, self.directory_file
        return self.directory_url, demo_directory_file()
