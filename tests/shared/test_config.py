"""Settings: the var directory follows the working directory; the mixins read each field under
the app's own prefix, exactly the names proxy and stations read today."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest
from pydantic_settings import SettingsConfigDict

from doorstep_catalog.config import CatalogSettings
from doorstep_gateway.config import GatewaySettings
from doorstep_proxy.config import ProxySettings
from doorstep_shared.config import AuditSettings, PiiSettings, ServiceSettings
from doorstep_shared.pii import PiiCipher
from doorstep_shared.webhooks.settings import WebhookSettings
from doorstep_stations.config import StationsSettings

KEY = "k1:" + "A" * 43
HASH_KEY = "B" * 43


class ProxyLike(PiiSettings, WebhookSettings):
    model_config = SettingsConfigDict(env_prefix="DOORSTEP_PROXY_", extra="ignore")
    service_name: str = "proxy"


class StationsLike(PiiSettings, WebhookSettings):
    model_config = SettingsConfigDict(env_prefix="DOORSTEP_STATIONS_", extra="ignore")
    service_name: str = "stations"


@pytest.fixture(autouse=True)
def no_doorstep_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("DOORSTEP_"):
            monkeypatch.delenv(name)


def test_var_dir_defaults_to_var_under_the_working_directory(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    settings = ServiceSettings()
    assert settings.var_dir == tmp_path / "var"
    assert settings.database_url == f"sqlite+aiosqlite:///{tmp_path / 'var' / 'doorstep.db'}"


@pytest.mark.parametrize(("cls", "prefix"), [(ProxyLike, "DOORSTEP_PROXY_"), (StationsLike, "DOORSTEP_STATIONS_")])
def test_mixin_fields_are_read_under_the_apps_own_prefix(
    monkeypatch: pytest.MonkeyPatch, cls: type[ServiceSettings], prefix: str
) -> None:
    monkeypatch.setenv(f"{prefix}PII_KEYS", KEY)
    monkeypatch.setenv(f"{prefix}PII_HASH_KEY", HASH_KEY)
    monkeypatch.setenv(f"{prefix}WEBHOOK_TIMEOUT", "7.5")
    monkeypatch.setenv(f"{prefix}WEBHOOK_CONCURRENCY", "3")
    monkeypatch.setenv(f"{prefix}WEBHOOK_RETRY_HOURS", "2")
    monkeypatch.setenv(f"{prefix}WEBHOOK_INTERVAL", "0.5")
    monkeypatch.setenv(f"{prefix}WEBHOOK_ALLOW_PRIVATE", "false")
    monkeypatch.setenv("DOORSTEP_WEBHOOK_TIMEOUT", "9")  # the base class's prefix is not read
    settings = cls(environment="test")
    assert isinstance(settings, PiiSettings) and isinstance(settings, WebhookSettings)
    assert (settings.pii_keys, settings.pii_hash_key) == (KEY, HASH_KEY)
    config = settings.webhook_config()
    assert config.timeout == 7.5
    assert config.concurrency == 3
    assert config.retry_window == dt.timedelta(hours=2)
    assert config.poll_interval == 0.5
    assert config.allow_private is False
    assert config.require_https is False


@pytest.mark.parametrize("service_cls", [ProxySettings, StationsSettings])
def test_the_mixins_cover_fields_the_services_have_today(service_cls: type[ServiceSettings]) -> None:
    """Adopting the mixins keeps every variable name: each mixin field is one the service has."""
    for mixin in (PiiSettings, WebhookSettings):
        own = set(mixin.model_fields) - set(ServiceSettings.model_fields)
        assert own <= set(service_cls.model_fields), own - set(service_cls.model_fields)


def test_webhook_defaults_follow_the_environment() -> None:
    dev = ProxyLike(environment="development").webhook_config()
    assert (dev.allow_private, dev.require_https) == (True, False)
    prod = ProxyLike(
        environment="production", database_url="sqlite+aiosqlite:///x.db", pii_keys=KEY, pii_hash_key=HASH_KEY
    ).webhook_config()
    assert (prod.allow_private, prod.require_https) == (False, True)


@pytest.mark.parametrize(("cls", "prefix"), [(ProxyLike, "DOORSTEP_PROXY_"), (StationsLike, "DOORSTEP_STATIONS_")])
def test_production_refuses_to_start_without_pii_keys(cls: type[PiiSettings], prefix: str) -> None:
    with pytest.raises(ValueError, match=f"{prefix}PII_KEYS and {prefix}PII_HASH_KEY must be set in production"):
        cls(environment="production", database_url="sqlite+aiosqlite:///x.db")


def test_production_refuses_to_start_without_a_database_url() -> None:
    with pytest.raises(ValueError, match="DOORSTEP_PROXY_DATABASE_URL must be set in production"):
        ProxyLike(environment="production", pii_keys=KEY, pii_hash_key=HASH_KEY)


def test_pii_cipher_uses_the_configured_keys_else_development_keys_under_var(tmp_path: Path) -> None:
    configured = ProxyLike(environment="test", var_dir=tmp_path, pii_keys=KEY, pii_hash_key=HASH_KEY).pii_cipher()
    assert configured.active_kid == "k1"
    assert not (tmp_path / "keys").exists()
    dev = StationsLike(environment="development", var_dir=tmp_path).pii_cipher()
    assert isinstance(dev, PiiCipher)
    assert (tmp_path / "keys" / "pii.keys").exists()
    assert dev.decrypt(dev.encrypt("13655554321")) == "13655554321"


def test_keys_stay_out_of_the_settings_repr() -> None:
    settings = ProxyLike(environment="test", pii_keys=KEY, pii_hash_key=HASH_KEY)
    assert KEY not in repr(settings) and HASH_KEY not in repr(settings)


@pytest.mark.parametrize("cls", [GatewaySettings, CatalogSettings, ProxySettings])
def test_production_refuses_to_start_without_audit_keys_and_development_makes_them(
    cls: type[AuditSettings], tmp_path: Path
) -> None:
    with pytest.raises(ValueError, match="AUDIT_KEYS must be set in production"):
        cls(environment="production", database_url="postgresql+asyncpg://x/y", pii_keys=KEY, pii_hash_key=HASH_KEY)
    first = cls(environment="development", var_dir=tmp_path).audit_trust()
    second = cls(environment="development", var_dir=tmp_path).audit_trust()
    assert (tmp_path / "keys" / "audit.keys").exists()
    assert first.keys.mac(first.keys.active_kid, "entry", b"x") == second.keys.mac(
        second.keys.active_kid, "entry", b"x"
    )
    assert "A" * 43 not in repr(cls(environment="test", var_dir=tmp_path, audit_keys="k:" + "A" * 43))
