"""Secrets and Standard Webhooks signatures (``webhook-id``, ``webhook-timestamp``, ``webhook-signature``)."""

from __future__ import annotations

import base64
import datetime as dt
import json
import secrets as secrets_module
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from standardwebhooks import Webhook

SECRET_CONTEXT = "webhook_secret"  # noqa: S105 (AES-GCM associated data, not a secret)


class SecretBox(Protocol):
    """Encrypts secrets at rest (``doorstep_shared.pii.PiiCipher`` is one)."""

    def encrypt(self, plaintext: str, *, context: str = "") -> str: ...

    def decrypt(self, token: str, *, context: str = "") -> str: ...


def new_secret() -> str:
    """A Standard Webhooks secret: ``whsec_`` + base64 of 32 random bytes."""
    return "whsec_" + base64.b64encode(secrets_module.token_bytes(32)).decode()


def sign_headers(event_id: str, body: str, secrets: Sequence[str], timestamp: dt.datetime) -> dict[str, str]:
    """The Standard Webhooks headers, signed with every given secret (space-separated)."""
    signatures = " ".join(Webhook(s).sign(event_id, timestamp, body) for s in secrets)
    return {
        "webhook-id": event_id,
        "webhook-timestamp": str(int(timestamp.timestamp())),
        "webhook-signature": signatures,
    }


def encode_body(envelope: Mapping[str, Any]) -> str:
    return json.dumps(envelope, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
