"""What the audit chain trusts that its database does not hold: the chain's keys and its checkpoints.

A plain hash chain only shows accidents: whoever can write the table can recompute every hash,
delete the newest rows or empty it. So each entry is MACed (HMAC-SHA256) under a key that lives
in configuration, never in the database, and the chain's state (entry count, newest id, head
MAC) is written now and then as a signed checkpoint to an append-only anchor outside the
database. :meth:`AuditLog.verify <doorstep_shared.db.audit.AuditLog.verify>` checks the chain
against every checkpoint, so truncation and emptying show even though the rows left are intact.

Keys rotate like the PII keys: ``kid1:base64key,kid2:base64key``, the first MACs new entries,
the others still verify old ones. Checkpoints are MACed under a key derived from the same key
(domain-separated), so one secret per app serves both.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from .clock import utcnow

# The key under which a session's ``info`` carries the app's :class:`AuditTrust`.
AUDIT_TRUST = "doorstep.audit_trust"


def _b64e(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _b64d(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def canonical_json(body: Mapping[str, Any]) -> bytes:
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str).encode()


class AuditKeys:
    """The MAC keys of an app's audit chain, by key id; ``active_kid`` MACs new entries."""

    def __init__(self, keys: Mapping[str, bytes], active_kid: str) -> None:
        if active_kid not in keys:
            raise ValueError("active audit key id is not among the keys")
        for kid, key in keys.items():
            if len(key) < 32 or not kid or len(kid) > 16 or ":" in kid:
                raise ValueError(f"audit key {kid!r} must be at least 32 bytes, its id 1-16 characters without ':'")
        self._keys = dict(keys)
        self.active_kid = active_kid

    @classmethod
    def from_config(cls, spec: str) -> AuditKeys:
        """``kid1:base64key,kid2:base64key``; the first one MACs new entries."""
        keys: dict[str, bytes] = {}
        for part in spec.split(","):
            kid, _, b64 = part.strip().partition(":")
            keys[kid] = _b64d(b64)
        return cls(keys, next(iter(keys)))

    @classmethod
    def dev(cls, directory: Path) -> AuditKeys:
        """Development keys kept under var/keys (made on first use, like the PII keys)."""
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / "audit.keys"
        if not path.exists():
            path.write_text(f"dev1:{_b64e(os.urandom(32))}\n")
            path.chmod(0o600)
        return cls.from_config(",".join(path.read_text().split()))

    def knows(self, kid: str) -> bool:
        return kid in self._keys

    def mac(self, kid: str, purpose: str, data: bytes) -> str:
        """HMAC-SHA256 under key ``kid``; ``purpose`` keeps entry and checkpoint MACs apart."""
        return hmac.new(self._keys[kid], purpose.encode() + b"\0" + data, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Checkpoint:
    """The chain as it stood: ``count`` entries, the newest ``last_id`` with MAC ``head``."""

    at: str
    count: int
    last_id: int
    head: str
    kid: str
    sig: str

    def body(self) -> dict[str, Any]:
        return {"at": self.at, "count": self.count, "last_id": self.last_id, "head": self.head, "kid": self.kid}


class CheckpointAnchor(Protocol):
    """Somewhere the database's owner cannot silently rewrite: it only ever grows."""

    def append(self, line: Mapping[str, Any]) -> None: ...

    def read(self) -> list[dict[str, Any]]: ...


class FileAnchor:
    """JSON lines appended to a file outside the database (opened for append only, fsynced).

    On a laptop that is ``var/audit/``; in production point it at storage the database's
    operators cannot write (see the README's "The audit chain").
    """

    def __init__(self, path: Path) -> None:
        self.path = path

    def append(self, line: Mapping[str, Any]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, canonical_json(line) + b"\n")
            os.fsync(fd)
        finally:
            os.close(fd)

    def read(self) -> list[dict[str, Any]]:
        if not self.path.exists():
            return []
        lines: list[dict[str, Any]] = []
        for raw in self.path.read_text(encoding="utf-8").splitlines():
            if raw.strip():
                lines.append(json.loads(raw))
        return lines


@dataclass
class AuditTrust:
    """An app's audit keys and anchor; rides on every session of the app (``session.info``)."""

    keys: AuditKeys
    anchor: CheckpointAnchor
    last_state: tuple[int, int, str] | None = None  # the last checkpoint this process wrote

    def sign(self, count: int, last_id: int, head: str) -> Checkpoint:
        at = utcnow().astimezone(dt.UTC).isoformat(timespec="seconds")
        kid = self.keys.active_kid
        unsigned = Checkpoint(at=at, count=count, last_id=last_id, head=head, kid=kid, sig="")
        sig = self.keys.mac(kid, "checkpoint", canonical_json(unsigned.body()))
        return Checkpoint(at=at, count=count, last_id=last_id, head=head, kid=kid, sig=sig)

    def write(self, checkpoint: Checkpoint) -> None:
        self.anchor.append({**checkpoint.body(), "sig": checkpoint.sig})

    def checkpoints(self) -> tuple[list[Checkpoint], int]:
        """The anchor's checkpoints whose signature holds, and how many lines did not."""
        good: list[Checkpoint] = []
        forged = 0
        for line in self.anchor.read():
            try:
                cp = Checkpoint(**{k: line[k] for k in ("at", "count", "last_id", "head", "kid", "sig")})
                ok = self.keys.knows(cp.kid) and hmac.compare_digest(
                    self.keys.mac(cp.kid, "checkpoint", canonical_json(cp.body())), cp.sig
                )
            except (KeyError, TypeError):
                ok = False
            if ok:
                good.append(cp)
            else:
                forged += 1
        return good, forged


def anchor_path(directory: Path, service: str, database_url: str, schema: str | None) -> Path:
    """One checkpoint file per database (a test run's databases never share one)."""
    digest = hashlib.sha256(f"{database_url}|{schema or ''}".encode()).hexdigest()[:16]
    return directory / f"{service}-{digest}.checkpoints.jsonl"
