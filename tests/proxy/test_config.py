from __future__ import annotations

import base64
import os
from pathlib import Path

import pytest
from pydantic import ValidationError

from doorstep_proxy.config import ProxySettings
from doorstep_shared.auth.service_keys import ServiceKey

AUDIT_KEYS = "a1:" + base64.urlsafe_b64encode(bytes(32)).decode()


def test_production_refuses_to_start_without_personal_data_keys() -> None:
    with pytest.raises(ValidationError, match="PII_KEYS"):
        ProxySettings(environment="production", database_url="postgresql+asyncpg://x/y", audit_keys=AUDIT_KEYS)


SERVICE_KEY = ServiceKey.generate("proxy").to_config()


def test_production_refuses_to_start_without_the_service_key() -> None:
    mac = base64.b64encode(os.urandom(32)).decode()
    with pytest.raises(ValidationError, match="SERVICE_KEY"):
        ProxySettings(
            environment="production",
            database_url="postgresql+asyncpg://x/y",
            pii_keys=f"k:{mac}",
            pii_hash_key=mac,
            audit_keys=AUDIT_KEYS,
        )


def test_configured_keys_encrypt_and_old_keys_still_decrypt(tmp_path: Path) -> None:
    new, old, mac = (base64.b64encode(os.urandom(32)).decode() for _ in range(3))
    before = ProxySettings(
        environment="production",
        database_url="postgresql+asyncpg://x/y",
        audit_keys=AUDIT_KEYS,
        pii_keys=f"old:{old}",
        pii_hash_key=mac,
        service_key=SERVICE_KEY,
    ).pii_cipher()
    token = before.encrypt("13812345678", context="resident.phone")
    after = ProxySettings(
        environment="production",
        database_url="postgresql+asyncpg://x/y",
        audit_keys=AUDIT_KEYS,
        pii_keys=f"k2:{new},old:{old}",
        pii_hash_key=mac,
        service_key=SERVICE_KEY,
    ).pii_cipher()
    assert after.active_kid == "k2"
    assert after.decrypt(token, context="resident.phone") == "13812345678"
    assert after.lookup_hash("1", kind="phone") == before.lookup_hash("1", kind="phone")
    assert "pii" not in repr(ProxySettings(environment="test", var_dir=tmp_path)).lower()


def test_development_falls_back_to_keys_under_var(tmp_path: Path) -> None:
    settings = ProxySettings(environment="development", var_dir=tmp_path)
    first, second = settings.pii_cipher(), settings.pii_cipher()
    assert (tmp_path / "keys" / "pii.keys").exists()
    assert first.lookup_hash("x", kind="id_number") == second.lookup_hash("x", kind="id_number")
