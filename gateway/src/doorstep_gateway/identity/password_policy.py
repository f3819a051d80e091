"""What a staff password must be (NIST SP 800-63B §5.1.1.2): long enough, not the username, not
a known common password; no composition rules.

The common-password list is Django's (``django/contrib/auth/common-passwords.txt.gz``, BSD-3:
the 20,000 most common passwords of public breach corpora, compiled by Royce Williams),
lower-cased and bundled here, so nothing is fetched at run time.
"""

from __future__ import annotations

import gzip
import re
from functools import cache
from importlib.resources import files

MIN_LENGTH = 10
_TRAILING_NOISE = re.compile(r"[\d\W_]+$")  # "password2024!" is "password" with a year and a bang


@cache
def common_passwords() -> frozenset[str]:
    data = files(__package__).joinpath("common-passwords.txt.gz").read_bytes()
    return frozenset(gzip.decompress(data).decode().split())


def weakness(password: str, username: str) -> str | None:
    """Why ``password`` may not be used by ``username`` (None: it may)."""
    lowered = password.lower()
    if len(password) < MIN_LENGTH:
        return f"at least {MIN_LENGTH} characters"
    if username.lower() in lowered:
        return "must not contain the username"
    if password.isdigit():
        return "must not be only digits (a phone number, a date)"
    if len(set(lowered)) < 4:
        return "too few different characters"
    common = common_passwords()
    if lowered in common or _TRAILING_NOISE.sub("", lowered) in common:
        return "too common: it is on a list of passwords attackers try first"
    return None
