"""Residents' phone numbers as stations keeps them: validated, encrypted, hashed for lookup,
masked for display (bookings and drop-off tickets alike)."""

from __future__ import annotations

from dataclasses import dataclass

from doorstep_shared.http.errors import Invalid
from doorstep_shared.pii import PiiCipher, mask_phone, normalize_phone, phone_ok

# The associated data of every stored phone ciphertext: decrypting needs the same.
PHONE_CONTEXT = "phone"


def validate_phone(phone: str, field: str = "body.phone") -> str:
    normalised = normalize_phone(phone)
    if not phone_ok(normalised):
        raise Invalid.field(field, "not a valid mainland mobile or landline number")
    return normalised


@dataclass(frozen=True)
class StoredPhone:
    """The three columns a phone is kept in (``phone_cipher``, ``phone_hash``, ``phone_masked``)."""

    cipher: str
    hash: str
    masked: str


def store_phone(cipher: PiiCipher, phone: str) -> StoredPhone:
    """A validated phone, ready to store."""
    return StoredPhone(
        cipher=cipher.encrypt(phone, context=PHONE_CONTEXT),
        hash=cipher.lookup_hash(phone, kind="phone"),
        masked=mask_phone(phone) or "",
    )


def read_phone(cipher: PiiCipher, stored: str) -> str:
    """The plain phone of a stored ciphertext (to send a message, to check its last digits)."""
    return cipher.decrypt(stored, context=PHONE_CONTEXT)
