"""Typed settings shared by every app; each app subclasses with its own env prefix."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

Environment = Literal["development", "test", "production"]

REPO_ROOT = Path(__file__).resolve().parents[3]
DEFAULT_VAR_DIR = REPO_ROOT / "var"


class ServiceSettings(BaseSettings):
    """Settings every Doorstep app has. Subclasses set ``env_prefix`` (e.g. ``DOORSTEP_CATALOG_``)."""

    model_config = SettingsConfigDict(env_prefix="DOORSTEP_", extra="ignore")

    environment: Environment = Field("development", description="development | test | production")
    host: str = Field("127.0.0.1", description="Interface to bind")
    port: int = Field(8000, description="Port to bind")
    database_url: str = Field("", description="SQLAlchemy async URL: sqlite+aiosqlite:///… or postgresql+asyncpg://…")
    database_schema: str | None = Field(None, description="PostgreSQL schema for this service's tables")
    database_pool_size: int = Field(10, description="PostgreSQL connection pool size")
    var_dir: Path = Field(DEFAULT_VAR_DIR, description="Directory for local data (SQLite files, dev keys)")
    jwt_issuer: str = Field("doorstep-gateway", description="Expected `iss` of access tokens")
    jwt_audience: str = Field("doorstep", description="Expected `aud` of access tokens")
    jwks_url: str = Field(
        "http://127.0.0.1:8000/.well-known/jwks.json",
        description="Where to fetch the gateway's public keys (JWKS)",
    )
    jwks_file: Path | None = Field(None, description="A JWKS JSON file to read public keys from instead of the URL")
    log_level: str = Field("INFO", description="Log level")
    log_json: bool = Field(True, description="JSON-lines logs")
    docs_enabled: bool = Field(True, description="Serve /docs, /redoc and /openapi.json")

    service_name: str = "doorstep"

    @property
    def is_production(self) -> bool:
        return self.environment == "production"

    def default_sqlite_url(self) -> str:
        return f"sqlite+aiosqlite:///{self.var_dir / (self.service_name + '.db')}"

    @model_validator(mode="after")
    def _fill_database_url(self) -> ServiceSettings:
        if not self.database_url:
            if self.environment == "production":
                raise ValueError(f"{self.model_config.get('env_prefix')}DATABASE_URL must be set in production")
            self.database_url = self.default_sqlite_url()
        return self
