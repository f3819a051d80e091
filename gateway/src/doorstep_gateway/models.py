"""Every gateway table, on one ``metadata``: what migrations (``migrations/env.py``) and tests see.

The tables live in their sub-domains (and the audit log's in :mod:`.db`); importing this module
registers them all.
"""

from __future__ import annotations

from .clients.models import ApiClient
from .db import audit_head_table, audit_log_table, metadata
from .directory.models import Community, Compound, County, DirectoryChange, DirectoryGeneration, Grid
from .identity.models import LoginSession, LoginThrottle, MfaFactor, MfaRecoveryCode, RefreshToken, User

__all__ = [
    "ApiClient",
    "Community",
    "Compound",
    "County",
    "DirectoryChange",
    "DirectoryGeneration",
    "Grid",
    "LoginSession",
    "LoginThrottle",
    "MfaFactor",
    "MfaRecoveryCode",
    "RefreshToken",
    "User",
    "audit_head_table",
    "audit_log_table",
    "metadata",
]
