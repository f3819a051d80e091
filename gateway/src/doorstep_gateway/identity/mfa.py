"""Two-factor sign-in for staff: TOTP (RFC 6238, pyotp) and one-time recovery codes.

- The TOTP secret is personal security data: kept as AES-GCM ciphertext under the gateway's PII
  keys (the cipher that keeps staff phones), bound to the username as associated data, so a
  ciphertext copied onto another account does not decrypt.
- A code is accepted for the current 30-second step or one step either side (clock drift), and
  only for a step newer than the last accepted one: a code seen over a shoulder or replayed
  within its window is refused (``MfaFactor.last_step``, advanced by a conditional update so
  two concurrent sign-ins cannot both spend it).
- Recovery codes: ten, 10 characters of Crockford base32 (50 random bits), shown once; only a
  SHA-256 of (username, code) is kept. As with activation codes, a slow hash adds nothing
  against 50 random bits, and checking one costs the same whether it is right or wrong.
- Timing: :func:`check` does the same work (decrypt, three TOTP candidates, one recovery-code
  lookup) whether or not the account has two factors, so the sign-in's failure paths cost alike.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

import pyotp
import segno
from sqlalchemy import delete, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from doorstep_shared.clock import epoch_seconds, utcnow
from doorstep_shared.pii import PiiCipher

from .models import MfaFactor, MfaRecoveryCode

ISSUER = "Doorstep"
STEP_SECONDS = 30
DRIFT_STEPS = 1
RECOVERY_CODES = 10
_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford: no I, L, O, U
_SLIPS = str.maketrans({"O": "0", "I": "1", "L": "1", "-": None, " ": None})
# Verified against when the account has no factor, so that path costs what a real check costs.
_DUMMY_SECRET = pyotp.random_base32()


def _context(username: str) -> str:
    return f"identity.mfa:{username}"


@dataclass(frozen=True)
class Enrolment:
    secret: str
    otpauth_uri: str
    qr_svg: str


def new_enrolment(cipher: PiiCipher, username: str) -> tuple[Enrolment, str]:
    """A fresh secret, what the authenticator app needs (URI and QR code as SVG, rendered here,
    no outside service) and the secret's ciphertext to store."""
    secret = pyotp.random_base32()
    uri = pyotp.TOTP(secret, interval=STEP_SECONDS).provisioning_uri(name=username, issuer_name=ISSUER)
    svg = segno.make(uri, error="m").svg_inline(scale=4, title=f"{ISSUER}: {username}")
    return Enrolment(secret=secret, otpauth_uri=uri, qr_svg=svg), cipher.encrypt(secret, context=_context(username))


def current_step() -> int:
    return int(epoch_seconds()) // STEP_SECONDS


def matching_step(secret: str, code: str, after_step: int) -> int | None:
    """The step within the drift window whose code this is and that is newer than ``after_step``
    (every candidate is compared, in constant time, whatever the outcome)."""
    totp = pyotp.TOTP(secret, interval=STEP_SECONDS)
    now = current_step()
    found: int | None = None
    given = code.strip().encode("utf-8", "surrogatepass")  # bytes: compare_digest refuses non-ASCII str
    for step in range(now - DRIFT_STEPS, now + DRIFT_STEPS + 1):
        if hmac.compare_digest(totp.generate_otp(step).encode(), given) and step > after_step and found is None:
            found = step
    return found


def recovery_hash(username: str, code: str) -> str:
    normalised = code.upper().translate(_SLIPS)
    return hashlib.sha256(f"doorstep.recovery:{username}:{normalised}".encode()).hexdigest()


def new_recovery_codes() -> list[str]:
    codes = []
    for _ in range(RECOVERY_CODES):
        raw = "".join(secrets.choice(_ALPHABET) for _ in range(10))
        codes.append(f"{raw[:5]}-{raw[5:]}")
    return codes


async def factor_of(session: AsyncSession, username: str, *, for_update: bool = False) -> MfaFactor | None:
    return await session.get(MfaFactor, username, with_for_update=for_update)


def secret_of(cipher: PiiCipher, factor: MfaFactor) -> str:
    return cipher.decrypt(factor.secret_cipher, context=_context(factor.username))


async def _spend_step(session: AsyncSession, username: str, step: int) -> bool:
    result = await session.execute(
        update(MfaFactor)
        .where(col(MfaFactor.username) == username, col(MfaFactor.last_step) < step)
        .values(last_step=step)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def _spend_recovery(session: AsyncSession, username: str, code: str) -> bool:
    result = await session.execute(
        update(MfaRecoveryCode)
        .where(
            col(MfaRecoveryCode.code_hash) == recovery_hash(username, code),
            col(MfaRecoveryCode.username) == username,
            col(MfaRecoveryCode.used_at).is_(None),
        )
        .values(used_at=utcnow())
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def check(
    session: AsyncSession,
    cipher: PiiCipher,
    username: str,
    factor: MfaFactor | None,
    code: str,
    *,
    spend: bool,
) -> str | None:
    """Spends ``code`` for a confirmed factor: "totp" or "recovery" when it is good, None when not.
    Without a confirmed factor, or with ``spend`` False (the password was wrong), it does the same
    work (decryption, candidates, one indexed lookup) and spends nothing."""
    confirmed = factor is not None and factor.confirmed_at is not None
    secret = secret_of(cipher, factor) if factor is not None and confirmed else _DUMMY_SECRET
    step = matching_step(secret, code, factor.last_step if factor is not None else 0)
    spend = spend and confirmed
    if not spend:
        await session.exec(
            select(MfaRecoveryCode.used_at).where(col(MfaRecoveryCode.code_hash) == recovery_hash(username, code))
        )
        return None
    if step is not None and await _spend_step(session, username, step):
        return "totp"
    return "recovery" if await _spend_recovery(session, username, code) else None


async def confirm(session: AsyncSession, cipher: PiiCipher, factor: MfaFactor, code: str) -> list[str] | None:
    """Confirms a pending factor with a first code; the ten recovery codes (shown once), or None."""
    step = matching_step(secret_of(cipher, factor), code, factor.last_step)
    if step is None:
        return None
    factor.confirmed_at = utcnow()
    factor.last_step = step
    session.add(factor)
    await session.execute(delete(MfaRecoveryCode).where(col(MfaRecoveryCode.username) == factor.username))
    codes = new_recovery_codes()
    for code_ in codes:
        session.add(MfaRecoveryCode(code_hash=recovery_hash(factor.username, code_), username=factor.username))
    await session.flush()
    return codes


async def remove(session: AsyncSession, username: str) -> None:
    await session.execute(delete(MfaRecoveryCode).where(col(MfaRecoveryCode.username) == username))
    await session.execute(delete(MfaFactor).where(col(MfaFactor.username) == username))


async def recovery_codes_left(session: AsyncSession, username: str) -> int:
    rows = await session.exec(
        select(MfaRecoveryCode).where(col(MfaRecoveryCode.username) == username, col(MfaRecoveryCode.used_at).is_(None))
    )
    return len(rows.all())
