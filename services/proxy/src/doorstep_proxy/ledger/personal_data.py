"""How the ledger stores residents' personal data, in one place: each value AES-GCM encrypted with
its column's name as associated data (a ciphertext copied into another column will not
decrypt), and an HMAC lookup hash beside the ID number and the phone (exact search and
de-duplication). Every write of these columns goes through the ``*_columns`` helpers, every
read through the ``plain_*`` ones; nothing else in the service calls the cipher for them.
"""

from __future__ import annotations

from typing import Any

from doorstep_shared.pii import PiiCipher

ID_CTX = "resident.id_number"
PHONE_CTX = "resident.phone"
CERT_CTX = "resident.disability_cert"


def id_number_hash(cipher: PiiCipher, number: str) -> str:
    return cipher.lookup_hash(number, kind="id_number")


def phone_hash(cipher: PiiCipher, phone: str | None) -> str | None:
    return cipher.lookup_hash(phone, kind="phone") if phone else None


def id_number_columns(cipher: PiiCipher, number: str, id_hash: str) -> dict[str, Any]:
    """The stored form of an ID number: ciphertext, its lookup hash (computed by the caller, who
    checked it for duplicates) and the plain last four (what the mask shows anyway)."""
    return {
        "id_number_enc": cipher.encrypt(number, context=ID_CTX),
        "id_number_hash": id_hash,
        "id_last4": number[-4:],
    }


def phone_columns(cipher: PiiCipher, phone: str | None) -> dict[str, Any]:
    return {
        "phone_enc": cipher.encrypt(phone, context=PHONE_CTX) if phone else None,
        "phone_hash": phone_hash(cipher, phone),
    }


def certificate_columns(cipher: PiiCipher, certificate: str | None) -> dict[str, Any]:
    return {"disability_cert_enc": cipher.encrypt(certificate, context=CERT_CTX) if certificate else None}


def plain_id_number(cipher: PiiCipher, resident: Any) -> str:
    return cipher.decrypt(resident.id_number_enc, context=ID_CTX)


def plain_phone(cipher: PiiCipher, resident: Any) -> str | None:
    return cipher.decrypt(resident.phone_enc, context=PHONE_CTX) if resident.phone_enc else None


def plain_certificate(cipher: PiiCipher, resident: Any) -> str | None:
    return cipher.decrypt(resident.disability_cert_enc, context=CERT_CTX) if resident.disability_cert_enc else None
